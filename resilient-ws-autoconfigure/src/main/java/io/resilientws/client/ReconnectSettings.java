package io.resilientws.client;

import java.time.Duration;
import java.util.Set;

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
 * @param tryAgainLaterDelay the least delay after a 1013 (Try Again Later) close
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

	/** The close codes that reconnect by default: abnormal loss and "server going away or overloaded". */
	public static final Set<Integer> DEFAULT_RECONNECT_CODES = Set.of(1001, 1006, 1011, 1012, 1013, 1014);

}
