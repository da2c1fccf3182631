package io.resilientws.heartbeat;

import java.time.Duration;

/**
 * How a connection proves its peer is alive.
 *
 * @param enabled whether pings are sent at all
 * @param interval time between pings
 * @param timeout how long a ping may go unanswered before it counts as missed
 * @param maxMissed consecutive missed pings after which the peer is declared dead
 * @param anyFrameCounts whether any inbound frame, not only a pong, proves life
 * @param mode ping frames, or application-level text messages for paths that eat ping frames
 * @param pingText the text sent as a ping in {@link HeartbeatMode#TEXT} mode
 * @param pongText the text expected back in {@link HeartbeatMode#TEXT} mode
 */
public record HeartbeatSettings(boolean enabled, Duration interval, Duration timeout, int maxMissed,
		boolean anyFrameCounts, HeartbeatMode mode, String pingText, String pongText) {

	/**
	 * The application-level ping every resilient-ws part speaks (the Java client in TEXT mode, the
	 * server registry, the browser client). Shaped so that no ordinary chat or JSON message equals it.
	 */
	public static final String DEFAULT_PING_TEXT = "__rws_ping__";

	/** The answer to {@link #DEFAULT_PING_TEXT}. */
	public static final String DEFAULT_PONG_TEXT = "__rws_pong__";

	/** Worst-case time from the last sign of life to the peer being declared dead. */
	public Duration detectionBound() {
		return this.interval.multipliedBy(this.maxMissed).plus(this.timeout);
	}

}
