package io.resilientws.client;

/**
 * Observes the connections of a {@link ConnectionRegistry}: which exist, and what happens to them.
 * Metrics, health and the actuator endpoint are built on this. Register with
 * {@link ConnectionRegistry#addListener}.
 * <p>
 * Events of one connection are delivered in order, one at a time, on that connection's callback
 * queue (the shared I/O pool), never under a lock of the connection: keep {@link #onEvent} short and
 * non-blocking, as it delays that connection's handler callbacks. A listener that throws is logged and
 * does not stop the others.
 */
public interface ConnectionListener {

	/** A connection was registered (configured or added at runtime), before it starts. */
	default void connectionAdded(ManagedConnection connection) {
	}

	/**
	 * A connection was {@link ConnectionRegistry#remove removed}. Its closing events may still follow;
	 * a listener that keeps per-connection state drops it here and ignores them.
	 */
	default void connectionRemoved(ManagedConnection connection) {
	}

	/** Something happened on a connection. */
	default void onEvent(ConnectionEvent event) {
	}

}
