package io.resilientws.server;

import java.time.Instant;

import io.resilientws.send.SendFailure;

/**
 * What the server registry tells its observers (metrics, health, the endpoint). Keyed by endpoint
 * path, never by anything unbounded in a tag.
 */
public sealed interface SessionEvent
		permits SessionEvent.Opened, SessionEvent.Closed, SessionEvent.Overflow, SessionEvent.Undelivered {

	/** The path the session's endpoint is registered at. */
	String endpoint();

	Instant timestamp();

	record Opened(String sessionId, String endpoint, Instant timestamp) implements SessionEvent {
	}

	/**
	 * @param code the close code as this side saw it (1006 when the connection died or was terminated)
	 */
	record Closed(String sessionId, String endpoint, int code, CloseCause cause, Instant timestamp)
			implements SessionEvent {
	}

	/** A session's buffer overflowed or its write stalled, and {@code policy} was applied. */
	record Overflow(String sessionId, String endpoint, ServerOverflowPolicy policy, Instant timestamp)
			implements SessionEvent {
	}

	/** A message to a session was not delivered. */
	record Undelivered(String endpoint, SendFailure reason, Instant timestamp) implements SessionEvent {
	}

}
