package io.resilientws.client;

/**
 * Who ended a connection.
 */
public enum CloseInitiator {

	/** This side closed it on purpose: {@code close()}, application stop, or a send-buffer overflow. */
	LOCAL,

	/** The peer sent a close frame. */
	REMOTE,

	/**
	 * Nobody closed it: the connection died without a close frame (network loss, heartbeat death,
	 * failed connect or handshake). Reported as code 1006.
	 */
	ABNORMAL

}
