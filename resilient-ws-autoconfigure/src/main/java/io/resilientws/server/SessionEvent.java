package io.resilientws.server;

import java.time.Instant;

import io.resilientws.resume.ResumeFrame;
import io.resilientws.send.SendFailure;

/**
 * What the server registry tells its observers (metrics, health, the endpoint). Keyed by endpoint
 * path, never by anything unbounded in a tag.
 */
public sealed interface SessionEvent
		permits SessionEvent.Opened, SessionEvent.Closed, SessionEvent.Overflow, SessionEvent.Undelivered,
		SessionEvent.Detached, SessionEvent.Resumed, SessionEvent.ResumeRefused {

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

	/**
	 * A resuming session lost its connection abnormally and waits for its client (its handler is told
	 * nothing yet); it ends with a {@link Closed} if the client does not come back within the window.
	 */
	record Detached(String sessionId, String endpoint, Instant timestamp) implements SessionEvent {
	}

	/**
	 * A client resumed its session on a new connection.
	 * @param replayed messages the session wrote again because the client did not have them
	 */
	record Resumed(String sessionId, String endpoint, long replayed, Instant timestamp) implements SessionEvent {
	}

	/** A client asked to resume a session and was refused: it got a new session instead. */
	record ResumeRefused(String endpoint, ResumeFrame.RefusalReason reason, Instant timestamp) implements SessionEvent {
	}

	/** A message to a session was not delivered. */
	record Undelivered(String endpoint, SendFailure reason, Instant timestamp) implements SessionEvent {
	}

}
