package io.resilientws.send;

import java.util.ArrayDeque;
import java.util.List;

import io.resilientws.resume.ReplayBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The resume-mode part of an {@link OutboundQueue} (docs/RESUME-PROTOCOL.md §3–4): numbers each data
 * message as it is first written, keeps it until the peer acknowledges it, and after a resume lines
 * up what the peer does not have, to be written again ahead of the queue.
 * <p>
 * Guarded by the queue's lock; completes and fails nothing itself: the messages its calls return are
 * for the queue to settle after that lock.
 */
final class SendReplay {

	private final long limitBytes;

	private ReplayBuffer<OutboundMessage> buffer;

	/** Written before, not acknowledged, to be written again on the current transport; oldest first. */
	private final ArrayDeque<OutboundMessage> resends = new ArrayDeque<>();

	SendReplay(long limitBytes) {
		this.limitBytes = limitBytes;
		this.buffer = new ReplayBuffer<>(limitBytes);
	}

	/**
	 * A new session: numbering starts again at 1.
	 * @return what the old session had not seen acknowledged, to fail
	 */
	List<OutboundMessage> restart() {
		List<OutboundMessage> lost = discard();
		this.buffer = new ReplayBuffer<>(this.limitBytes);
		return lost;
	}

	/**
	 * A session taken over from another instance: its peer has {@code peerReceived} messages and lacks
	 * {@code unacknowledged}, which are numbered after that and written again first.
	 */
	void adopt(long peerReceived, List<OutboundMessage> unacknowledged) {
		this.buffer = ReplayBuffer.continuing(this.limitBytes, peerReceived);
		unacknowledged.forEach(this::number);
		resendUnacknowledged();
	}

	/** Gives a data message its offset, the first time it is written (a resend keeps its own). */
	void number(OutboundMessage message) {
		if (message.offset == 0) {
			message.offset = this.buffer.written(message, (int) Math.min(Integer.MAX_VALUE, message.size()));
		}
	}

	/** Whether more is unacknowledged than the limit: the session can no longer be resumed. */
	boolean overLimit() {
		return this.buffer.overLimit();
	}

	/** The peer has {@code received} messages: those it acknowledges now, to complete. */
	List<OutboundMessage> acknowledge(long received) {
		return this.buffer.acknowledge(received);
	}

	/** A new transport: everything unacknowledged is written again, in order, before anything else. */
	void resendUnacknowledged() {
		this.resends.clear();
		this.buffer.unacknowledged().forEach((entry) -> this.resends.addLast(entry.message()));
	}

	@Nullable OutboundMessage pollResend() {
		return this.resends.pollFirst();
	}

	boolean hasResends() {
		return !this.resends.isEmpty();
	}

	/** The session ends unrecovered: every unacknowledged message, to fail. */
	List<OutboundMessage> discard() {
		this.resends.clear();
		return this.buffer.discard();
	}

	boolean canResumeFrom(long received) {
		return received >= this.buffer.acknowledged() && received <= this.buffer.lastWritten();
	}

	long lastWritten() {
		return this.buffer.lastWritten();
	}

	long unacknowledgedBytes() {
		return this.buffer.unacknowledgedBytes();
	}

}
