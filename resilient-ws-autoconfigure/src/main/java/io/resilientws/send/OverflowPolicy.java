package io.resilientws.send;

/**
 * What a send does when the bytes already buffered plus the new message would exceed the buffer limit.
 */
public enum OverflowPolicy {

	/** Refuse the new message; the sender is told at once. The safe default. */
	REJECT,

	/** Evict the oldest queued (not yet writing) messages until the new one fits; each evicted sender is told. */
	DROP_OLDEST,

	/** Make the sender wait, up to the block timeout, for room; then refuse the message. */
	BLOCK,

	/** Refuse the new message and close the connection: a peer that cannot keep up is treated as lost. */
	CLOSE

}
