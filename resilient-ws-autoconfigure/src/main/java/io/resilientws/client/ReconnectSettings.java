package io.resilientws.client;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import org.springframework.util.backoff.BackOffExecution;
import org.springframework.util.backoff.ExponentialBackOff;

/**
 * When and how fast a lost connection comes back.
 *
 * @param enabled whether lost connections reconnect at all
 * @param initialDelay the delay before the first attempt after a loss
 * @param maxDelay the longest delay between attempts
 * @param multiplier how much each delay grows over the previous one
 * @param jitter randomness added to each delay, scaled with the delay (spring-core's
 * {@link ExponentialBackOff#setJitter jitter}): the first delay lies in
 * {@code [initialDelay, initialDelay + jitter]}
 * @param maxAttempts attempts after a loss before giving up, {@link Long#MAX_VALUE} for no limit
 * @param stableAfter uptime after which a connection counts as stable, so its next loss starts
 * the attempt count and delays afresh
 * @param tryAgainLaterDelay the least delay after a 1013 (Try Again Later) close; like a
 * {@code Retry-After}, it is spread upward by jitter (see {@link #spreadAbove})
 * @param policy which close codes reconnect
 */
public record ReconnectSettings(boolean enabled, Duration initialDelay, Duration maxDelay, double multiplier,
		Duration jitter, long maxAttempts, Duration stableAfter, Duration tryAgainLaterDelay, ReconnectPolicy policy) {

	/** A fresh series of delays, as after a stable connection was lost. */
	public BackOffExecution startBackOff() {
		ExponentialBackOff backOff = new ExponentialBackOff(this.initialDelay.toMillis(), this.multiplier);
		backOff.setMaxInterval(this.maxDelay.toMillis());
		backOff.setJitter(this.jitter.toMillis());
		backOff.setMaxAttempts(this.maxAttempts);
		return backOff.start();
	}

	/**
	 * The longest {@code Retry-After} a refused handshake is honoured with: a longer one (or a date
	 * further away) waits this long, so that a misconfigured server cannot keep a client away for good.
	 */
	public static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);

	/**
	 * A delay of at least {@code floor} (the 1013 floor or a server's {@code Retry-After}), spread upward
	 * by up to the share of it that {@code jitter} is of {@code initialDelay} (at most the floor itself):
	 * with the defaults, 10s becomes 10s to 15s. Clients told the same floor at the same moment so come
	 * back spread out, and none earlier than the server asked. No spread when jitter is 0.
	 */
	public Duration spreadAbove(Duration floor) {
		if (this.jitter.isZero()) {
			return floor;
		}
		double share = Math.min(1.0, (double) this.jitter.toMillis() / this.initialDelay.toMillis());
		long spreadMillis = (long) (floor.toMillis() * share);
		return floor.plusMillis(ThreadLocalRandom.current().nextLong(spreadMillis + 1));
	}

	/** The close codes that reconnect by default: abnormal loss and "server going away or overloaded". */
	public static final Set<Integer> DEFAULT_RECONNECT_CODES = Set.of(1001, 1006, 1011, 1012, 1013, 1014);

}
