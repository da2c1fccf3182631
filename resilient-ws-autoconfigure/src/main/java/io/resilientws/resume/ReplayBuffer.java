package io.resilientws.resume;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The sender's side of docs/RESUME-PROTOCOL.md §3–4: numbers each data message as it is written to a
 * transport and keeps it until the peer acknowledges it, so that a resume can write again what the
 * peer does not have. Offsets continue across transports; a message dropped before it was written
 * never gets one.
 * <p>
 * Not thread-safe: its owner holds its lock around every call. Nothing here completes a future or
 * writes; the messages a call returns are for the owner to complete, fail or write after the lock.
 *
 * @param <T> the owner's message type
 */
public final class ReplayBuffer<T> {

	/** A written, unacknowledged message. */
	public record Entry<T>(long offset, T message, int size) {
	}

	private final long limitBytes;

	/** Written and not yet acknowledged, oldest first; offsets are consecutive. */
	private final ArrayDeque<Entry<T>> unacknowledged = new ArrayDeque<>();

	/** The offset of the last message written, 0 before the first. */
	private long written;

	/** How many the peer has acknowledged: every offset up to this one. */
	private long acknowledged;

	private long bytes;

	/**
	 * @param limitBytes the most unacknowledged bytes a session may hold and still be resumed
	 * ({@code resume.buffer-limit})
	 */
	public ReplayBuffer(long limitBytes) {
		this.limitBytes = limitBytes;
	}

	/**
	 * A buffer for a session that another instance numbered before: the peer has acknowledged
	 * {@code acknowledged} messages, and the next one written gets the offset after that.
	 */
	public static <T> ReplayBuffer<T> continuing(long limitBytes, long acknowledged) {
		ReplayBuffer<T> buffer = new ReplayBuffer<>(limitBytes);
		buffer.written = acknowledged;
		buffer.acknowledged = acknowledged;
		return buffer;
	}

	/**
	 * Numbers a message that is being written to the transport for the first time (not a resend).
	 * @return its offset
	 */
	public long written(T message, int size) {
		if (this.written == ResumeWire.MAX_OFFSET) {
			throw new IllegalStateException("The session wrote 2^53 - 1 messages");
		}
		this.written++;
		this.unacknowledged.addLast(new Entry<>(this.written, message, size));
		this.bytes += size;
		return this.written;
	}

	/**
	 * The peer has {@code received} messages (an {@code A}, or the count in {@code R} or {@code S}).
	 * @return the messages it acknowledges now, oldest first, for the owner to complete
	 * @throws ResumeProtocolException when the count goes back or counts a message never written
	 */
	public List<T> acknowledge(long received) {
		if (received < this.acknowledged) {
			throw new ResumeProtocolException("an acknowledgement counts fewer messages than an earlier one");
		}
		if (received > this.written) {
			throw new ResumeProtocolException("an acknowledgement counts messages that were never sent");
		}
		List<T> done = new ArrayList<>((int) (received - this.acknowledged));
		while (this.acknowledged < received) {
			Entry<T> entry = this.unacknowledged.removeFirst();
			this.bytes -= entry.size();
			this.acknowledged = entry.offset();
			done.add(entry.message());
		}
		return done;
	}

	/** What the peer does not have, oldest first, with their offsets: to write again after a resume. */
	public List<Entry<T>> unacknowledged() {
		return List.copyOf(this.unacknowledged);
	}

	/** Ends the buffer (the session ended unrecovered): every unacknowledged message, to fail. */
	public List<T> discard() {
		List<T> lost = new ArrayList<>(this.unacknowledged.size());
		this.unacknowledged.forEach((entry) -> lost.add(entry.message()));
		this.unacknowledged.clear();
		this.bytes = 0;
		return lost;
	}

	/** Whether more is unacknowledged than the limit: the session can no longer be resumed. */
	public boolean overLimit() {
		return this.bytes > this.limitBytes;
	}

	public long unacknowledgedBytes() {
		return this.bytes;
	}

	/** The offset of the last message written. */
	public long lastWritten() {
		return this.written;
	}

	/** How many messages the peer has acknowledged. */
	public long acknowledged() {
		return this.acknowledged;
	}

}
