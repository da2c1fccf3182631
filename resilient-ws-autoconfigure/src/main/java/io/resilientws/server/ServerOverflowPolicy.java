package io.resilientws.server;

import io.resilientws.send.OverflowPolicy;

/**
 * What happens when a session's send buffer is full, or a write has been stuck longer than the send
 * time limit: the peer is not reading fast enough.
 */
public enum ServerOverflowPolicy {

	/**
	 * Close the session with the configured code (1013 by default, which clients classify as
	 * "reconnect later"); if even the close frame cannot get through, the connection is dropped and
	 * the client sees 1006. Either way, a well-behaved client comes back.
	 */
	TERMINATE(OverflowPolicy.CLOSE),

	/** Discard the oldest queued messages to make room; the session stays open. */
	DROP_OLDEST(OverflowPolicy.DROP_OLDEST),

	/** Discard the new message; the session stays open. */
	DROP_NEWEST(OverflowPolicy.REJECT);

	private final OverflowPolicy queuePolicy;

	ServerOverflowPolicy(OverflowPolicy queuePolicy) {
		this.queuePolicy = queuePolicy;
	}

	/** The send-queue policy that carries this out. */
	public OverflowPolicy queuePolicy() {
		return this.queuePolicy;
	}

}
