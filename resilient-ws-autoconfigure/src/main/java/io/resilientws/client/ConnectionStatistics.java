package io.resilientws.client;

import java.util.concurrent.atomic.LongAdder;

import io.resilientws.send.SendFailure;

/**
 * Running totals of one connection's traffic, since it was registered (they survive reconnects).
 * Counting costs one {@link LongAdder} increment per message; meters read the totals when they are
 * scraped rather than being told about each message.
 * <p>
 * Messages are counted whole (not per frame) and bytes are payload bytes (UTF-8 for text), the same
 * measure as {@link ManagedConnection#bufferedAmount()}. TEXT-mode heartbeat pings and pongs are not
 * application messages and are not counted.
 */
public final class ConnectionStatistics {

	private final LongAdder messagesSent = new LongAdder();

	private final LongAdder bytesSent = new LongAdder();

	private final LongAdder messagesReceived = new LongAdder();

	private final LongAdder bytesReceived = new LongAdder();

	private final LongAdder[] undelivered = new LongAdder[SendFailure.values().length];

	ConnectionStatistics() {
		for (int i = 0; i < this.undelivered.length; i++) {
			this.undelivered[i] = new LongAdder();
		}
	}

	/** Messages written to the network. */
	public long messagesSent() {
		return this.messagesSent.sum();
	}

	/** Payload bytes of the messages written to the network. */
	public long bytesSent() {
		return this.bytesSent.sum();
	}

	/** Whole messages received and passed to the handler. */
	public long messagesReceived() {
		return this.messagesReceived.sum();
	}

	/** Payload bytes of the messages received. */
	public long bytesReceived() {
		return this.bytesReceived.sum();
	}

	/**
	 * Messages that were not delivered for {@code reason}: refused by {@code send} at once, or failed
	 * later through their delivery future.
	 */
	public long undelivered(SendFailure reason) {
		return this.undelivered[reason.ordinal()].sum();
	}

	void countSent(long bytes) {
		this.messagesSent.increment();
		this.bytesSent.add(bytes);
	}

	void countReceived(long bytes) {
		this.messagesReceived.increment();
		this.bytesReceived.add(bytes);
	}

	void countUndelivered(SendFailure reason) {
		this.undelivered[reason.ordinal()].increment();
	}

	@Override
	public String toString() {
		return "ConnectionStatistics[sent=" + messagesSent() + " (" + bytesSent() + " bytes), received="
				+ messagesReceived() + " (" + bytesReceived() + " bytes)]";
	}

}
