package io.resilientws.send;

/**
 * Why a message was not delivered. Every message that is not written reaches its sender with one of
 * these, either at once (a rejected {@link SendResult}) or later (its delivery future fails with
 * {@link UndeliveredMessageException}).
 */
public enum SendFailure {

	/** The send buffer was full and the overflow policy is REJECT (or CLOSE). */
	BUFFER_FULL,

	/** The message alone is larger than the whole send buffer; no policy could ever make room for it. */
	MESSAGE_TOO_LARGE,

	/** The message was queued, then evicted to make room for newer ones (policy DROP_OLDEST). */
	DROPPED_OLDEST,

	/** The sender waited {@code send.block-timeout} for room in the buffer and none came (policy BLOCK). */
	BLOCK_TIMEOUT,

	/** The connection was not open and messages are not held while disconnected. */
	NOT_OPEN,

	/** The connection was lost while the message was queued and messages are not held while disconnected. */
	CONNECTION_LOST,

	/** The connection was closed for good (local close, application stop, reconnects exhausted). */
	CLOSED,

	/** The transport failed while writing the message; the peer may or may not have received it. */
	WRITE_FAILED,

	/**
	 * The message was queued behind a write that has not completed for longer than the send time
	 * limit: the peer stopped reading, and queued messages were discarded (server drop policies).
	 */
	STALLED,

	/** The sending thread was interrupted while waiting for room (policy BLOCK). */
	INTERRUPTED,

	/**
	 * Cluster mode: the message was for a session on another instance, and it could not be published
	 * (Redis unreachable, or no answer within {@code resilient-ws.cluster.request-timeout}).
	 */
	NOT_PUBLISHED,

	/**
	 * Session resume (docs/RESUME-PROTOCOL.md): the message was sent in a session that could not be
	 * resumed after its connection was lost (the server refused the resume, or the session had ended),
	 * and the server had not acknowledged it; it may or may not have received it.
	 */
	NOT_RECOVERED,

	/**
	 * Session resume in cluster mode: the instance was drained and handed the session over to the
	 * instance its client resumes on, which delivers the message; this instance cannot learn the outcome.
	 */
	HANDED_OVER

}
