package io.resilientws.heartbeat;

/**
 * What a heartbeat sends.
 */
public enum HeartbeatMode {

	/** RFC 6455 ping frames, answered by pong frames (every conforming peer answers them). */
	FRAME,

	/**
	 * Application-level text messages, for peers or proxies that do not pass ping frames (and for
	 * browsers, which cannot send them).
	 */
	TEXT

}
