package io.resilientws.client;

/**
 * The state of a managed connection: the browser's four {@code readyState}s plus the time between
 * a loss and the next attempt, which the browser API has no word for.
 */
public enum ConnectionState {

	/** An attempt to open the connection is under way. */
	CONNECTING(0),

	/** Open: messages flow. */
	OPEN(1),

	/** A close handshake is under way after a local close. */
	CLOSING(2),

	/** Closed and staying closed: never started, closed on purpose, or out of reconnect attempts. */
	CLOSED(3),

	/** Lost, and a reconnect attempt is scheduled. */
	WAITING_TO_RECONNECT(0);

	private final int readyState;

	ConnectionState(int readyState) {
		this.readyState = readyState;
	}

	/**
	 * The browser {@code WebSocket.readyState} this state corresponds to (waiting to reconnect reads as
	 * CONNECTING, as in reconnecting-websocket).
	 */
	public int readyState() {
		return this.readyState;
	}

}
