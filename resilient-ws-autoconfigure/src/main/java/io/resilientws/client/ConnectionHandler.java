package io.resilientws.client;

import java.nio.ByteBuffer;

/**
 * Receives what happens on a managed connection: the browser's {@code onopen}, {@code onmessage},
 * {@code onerror} and {@code onclose}.
 * <p>
 * Callbacks for one connection are called one at a time, in order, never on the heartbeat scheduler
 * and never under a lock of the connection. The next message is read from the network only after
 * {@link #onText} or {@link #onBinary} returns: a handler that blocks holds back its own connection
 * (including the pongs its heartbeat waits for), never another one.
 */
public interface ConnectionHandler {

	/** The connection opened (for the first time or after a reconnect). */
	default void onOpen(ManagedConnection connection) {
	}

	/**
	 * With {@code resume.enabled}: the connection came back after a loss, and this says whether the
	 * server took up the same session ({@code recovered}: nothing sent either way was lost or will
	 * arrive twice) or a new one started (state on the server is lost; messages the server had not
	 * acknowledged failed with {@code NOT_RECOVERED}). Called just before {@link #onOpen} of the same
	 * open, so that {@code onOpen} can skip what a recovered session still has (subscriptions, say).
	 * Not called for a first session, nor without resume.
	 */
	default void onResume(ManagedConnection connection, ResumeOutcome outcome) {
	}

	/** A whole text message arrived. */
	default void onText(ManagedConnection connection, String text) {
	}

	/** A whole binary message arrived. */
	default void onBinary(ManagedConnection connection, ByteBuffer data) {
	}

	/** Something failed: a connect attempt, the transport, or another callback of this handler. */
	default void onError(ManagedConnection connection, Throwable error) {
	}

	/** The connection closed or an attempt failed; the event says whether and when a reconnect follows. */
	default void onClose(ManagedConnection connection, CloseEvent event) {
	}

}
