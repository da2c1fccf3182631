package io.resilientws.resume;

import java.time.Duration;

import io.resilientws.resume.ResumeFrame.Ack;

/**
 * The receiver's side of docs/RESUME-PROTOCOL.md §4: counts the data messages received in a session
 * (across its transports) and says when to acknowledge them: at {@link #MAX_MESSAGES} messages or
 * {@link #MAX_BYTES} bytes unacknowledged, or {@link #MAX_DELAY} after the first, whichever comes
 * first. Times are the owner's monotonic nanoseconds.
 * <p>
 * Not thread-safe: its owner holds its lock around every call and sends the {@link Ack} after it.
 */
public final class AckSchedule {

	public static final int MAX_MESSAGES = 64;

	public static final int MAX_BYTES = 64 * 1024;

	public static final Duration MAX_DELAY = Duration.ofMillis(100);

	private static final long NONE = Long.MIN_VALUE;

	private long received;

	private long acknowledged;

	private long pendingBytes;

	/** When the oldest unacknowledged message arrived, or {@link #NONE}. */
	private long firstPendingNanos = NONE;

	/** A schedule for a session that received {@code received} messages before (on another instance). */
	public static AckSchedule continuing(long received) {
		AckSchedule schedule = new AckSchedule();
		schedule.received = received;
		schedule.acknowledged = received;
		return schedule;
	}

	/** How many data messages were received. */
	public long receivedCount() {
		return this.received;
	}

	/**
	 * A data message arrived.
	 * @return its offset (the count of messages received so far)
	 */
	public long received(int size, long nowNanos) {
		this.received++;
		this.pendingBytes += size;
		if (this.firstPendingNanos == NONE) {
			this.firstPendingNanos = nowNanos;
		}
		return this.received;
	}

	/** Whether an acknowledgement is due now. */
	public boolean due(long nowNanos) {
		long pending = this.received - this.acknowledged;
		return pending > 0 && (pending >= MAX_MESSAGES || this.pendingBytes >= MAX_BYTES
				|| nowNanos - this.firstPendingNanos >= MAX_DELAY.toNanos());
	}

	/** When the delay runs out for what is pending, or {@link Long#MIN_VALUE} when nothing is. */
	public long deadlineNanos() {
		return (this.firstPendingNanos == NONE) ? NONE : this.firstPendingNanos + MAX_DELAY.toNanos();
	}

	/** The acknowledgement to send now; what was pending is acknowledged by it. */
	public Ack take() {
		this.acknowledged = this.received;
		this.pendingBytes = 0;
		this.firstPendingNanos = NONE;
		return new Ack(this.received);
	}

	/** How many data messages were received: what {@code R} or {@code S} carries, which acknowledges them too. */
	public long receivedForHandshake() {
		take();
		return this.received;
	}

}
