package io.resilientws.client;

/**
 * Who ended a connection.
 */
public enum CloseInitiator {

	/** This side closed it on purpose: {@code close()} or application stop. Never reconnects. */
	LOCAL,

	/** The peer sent a close frame. */
	REMOTE,

	/**
	 * Nobody closed it on purpose: the connection died without a close frame (network loss, heartbeat
	 * death, failed connect or handshake), or was dropped because the peer could not keep up with the
	 * send buffer under the CLOSE overflow policy. Reported as code 1006.
	 */
	ABNORMAL

}
