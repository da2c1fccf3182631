package io.resilientws.client;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import org.springframework.util.backoff.BackOffExecution;

/**
 * Decides, after a connection was lost, whether it comes back and when: the close code and who closed
 * against the policy, the backoff's next delay, the floor after 1013 and the server's
 * {@code Retry-After} (both spread upward by jitter). Counts the attempts since the last stable open. It does no I/O and reads no
 * clock; its owner calls it under the connection's lock.
 */
final class ReconnectPlanner {

	private static final int TRY_AGAIN_LATER = 1013;

	private final ReconnectSettings settings;

	private BackOffExecution backOff;

	/** The number of the current (or next) attempt since the last stable open; 0 before the first. */
	private int attempt;

	ReconnectPlanner(ReconnectSettings settings) {
		this.settings = settings;
		this.backOff = settings.startBackOff();
	}

	/** Starts afresh: the next attempt is the first, and delays start from the initial one. */
	void restart() {
		this.backOff = this.settings.startBackOff();
		this.attempt = 0;
	}

	/** Counts a connect attempt starting now and returns its number. */
	int beginAttempt() {
		return ++this.attempt;
	}

	int attempt() {
		return this.attempt;
	}

	/**
	 * The delay before the next attempt, or null if the connection stays closed.
	 * @param uptime how long the lost connection had been open, null if it never opened
	 * @param retryAfter what the server asked for when it refused the handshake, if anything
	 */
	@Nullable Duration afterLoss(int code, CloseInitiator initiator, boolean closeRequested, @Nullable Duration uptime,
			@Nullable Duration retryAfter) {
		if (uptime != null && uptime.compareTo(this.settings.stableAfter()) >= 0) {
			restart();
		}
		if (!this.settings.enabled() || closeRequested || !this.settings.policy().shouldReconnect(initiator, code)) {
			return null;
		}
		long delayMillis = this.backOff.nextBackOff();
		if (delayMillis == BackOffExecution.STOP) {
			return null;
		}
		Duration delay = Duration.ofMillis(delayMillis);
		Duration floor = (code == TRY_AGAIN_LATER) ? this.settings.tryAgainLaterDelay() : null;
		if (retryAfter != null && (floor == null || retryAfter.compareTo(floor) > 0)) {
			floor = retryAfter;
		}
		if (floor != null && delay.compareTo(floor) < 0) {
			// Spread upward: a fleet told the same floor must not come back in the same instant.
			delay = this.settings.spreadAbove(floor);
		}
		return delay;
	}

}
