package io.resilientws.send;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import io.resilientws.resume.ResumeWire;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;

/**
 * One connection's outgoing data messages: bounded in bytes, written one at a time, in order.
 * <p>
 * A send never writes on the caller's thread beyond handing the first message to the non-blocking
 * {@link MessageWriter}; the completion of each write starts the next. While no writer is attached
 * (the connection is not open) messages wait, and {@link #detach(SendFailure)} decides whether they
 * keep waiting for the next connection or fail.
 * <p>
 * Delivery futures complete where the outcome is learnt, in order, but every stage attached to one
 * runs on the {@code completions} executor ({@link DeliveryFuture}), never on the thread that writes
 * or holds a lock: a sender's callback may send again, block or close the connection without stalling
 * the send path, and a future nobody attached to costs no hand-off. An unobserved message
 * ({@link #offerAndForget}) has no future at all: its fate reaches only the {@link Observer}, which is
 * called on the thread where it is decided, as for every message.
 * <p>
 * In resume mode (docs/RESUME-PROTOCOL.md) written data messages are numbered and kept until the
 * peer acknowledges them ({@link SendReplay}), and control messages go out ahead of everything.
 * <p>
 * Longer than our usual 500 lines on purpose: one lock guards the whole send path (admission and the
 * overflow policies, the heartbeat slot, control messages, resends, the write in flight), and
 * splitting it would spread that lock over classes; what needs no lock of its own is apart
 * ({@link SendReplay}, {@link RateLimiter}, {@link DeliveryFuture}).
 */
public final class OutboundQueue {

	/**
	 * Told about every message that is written or not delivered, observed or not, for meters and
	 * events. Called on the thread where the outcome is decided (the sender's for a refusal, the
	 * transport's for a completed write, the caller's of close or detach), never under the lock: keep
	 * it cheap, and do not block in it.
	 */
	public interface Observer {

		/** A message was refused, dropped or failed: the only trace an unobserved message leaves. */
		void undelivered(SendFailure reason);

		/** The buffer overflowed under {@link OverflowPolicy#CLOSE}: the owner should close the connection. */
		void overflowClose();

		/** A message was written to the network (for counters; called on the writing thread, keep it cheap). */
		default void written(OutboundMessage message) {
		}

		/**
		 * A write failed: the transport is broken and nothing more goes through it. The owner should end
		 * the connection, or it would stay open with a dead output until a heartbeat, if any, noticed.
		 * Called once per writer, on the thread where the write failed, never under the lock.
		 */
		default void writeFailed(Throwable failure) {
		}

		/**
		 * In resume mode, more was written and not acknowledged than the replay limit: the session can no
		 * longer be resumed, and the owner should treat the peer as a slow consumer. Called at most once,
		 * never under the lock.
		 */
		default void replayOverflow() {
		}

	}

	private final SendLimits limits;

	private final TaskScheduler scheduler;

	private final Observer observer;

	private final Executor completions;

	// One lock guards every field below; it is never held while a writer or a future callback runs.
	private final ReentrantLock lock = new ReentrantLock();

	/** Signalled whenever bytes leave the buffer or the queue closes, for senders blocked under BLOCK. */
	private final Condition roomMade = this.lock.newCondition();

	/** Messages accepted and not yet handed to the writer, oldest first. */
	private final ArrayDeque<OutboundMessage> queue = new ArrayDeque<>();

	/** Bytes of queued messages plus the one being written: the browser's {@code bufferedAmount}. */
	private long bufferedBytes;

	/**
	 * The heartbeat message (an application-level ping or its answer) waiting to be written ahead of
	 * the queue; at most one, however many pings arrive while it waits. Its bytes are in bufferedBytes.
	 */
	private @Nullable OutboundMessage heartbeat;

	/**
	 * Control messages of the resume protocol waiting to be written ahead of everything else, oldest
	 * first; an acknowledgement replaces one that still waits, since acknowledgements are cumulative.
	 * Not counted in bufferedBytes: at most a session answer and one acknowledgement wait.
	 */
	private final ArrayDeque<OutboundMessage> controls = new ArrayDeque<>();

	/**
	 * The highest count of the peer's messages that an acknowledgement or session answer taken in this
	 * session carried. Their owners decide acknowledgements under a lock or an atomic count of their own
	 * and offer them here after it, from whichever thread decided (a stored count's completion, the delay
	 * timer, the reading thread), so one decided first can be offered second: it then says nothing new,
	 * and written after the other it would count fewer messages than an earlier one, which the peer
	 * takes for a protocol error (1002). It is dropped.
	 */
	private long acknowledgedToPeer;

	/** In resume mode, the written and unacknowledged messages; null otherwise. */
	private final @Nullable SendReplay replay;

	/** Set once the replay limit was passed, so that the owner is told once (per session). */
	private boolean replayOverflowed;

	/**
	 * In resume mode, whether the current session numbers and keeps what it writes; false once
	 * {@link #startSession} was told the peer does not speak the protocol (delivered when written).
	 */
	private boolean numbering = true;

	/** The message whose write has not completed yet; at most one. */
	private @Nullable OutboundMessage inFlight;

	/** Whether {@link #inFlight}'s bytes are in bufferedBytes (not for a control message or a resend). */
	private boolean inFlightCounted;

	/**
	 * The writer {@link #inFlight} was handed to. In resume mode the same message can be written again
	 * on a new transport while its write on the dead one has yet to report: only the completion from
	 * this writer ends the write in flight.
	 */
	private @Nullable MessageWriter inFlightWriter;

	/**
	 * When the write of {@link #inFlight} started; null exactly when no write is in progress. Written
	 * under the lock, read without it by {@link #writingSince()}: the server registry's stall sweep
	 * asks every session once a second, and taking each queue's lock for that stored the owner thread
	 * into 10,000 old-generation locks a second, whose card marks kept G1's refinement threads busy.
	 */
	private volatile @Nullable Instant inFlightSince;

	/** Where messages go; null while the connection is not open. */
	private @Nullable MessageWriter writer;

	/** Resume mode across instances: told of each data message accepted and of each dropped; null otherwise. */
	private volatile @Nullable Journal journal;

	/** With a journal: the number of the last data message accepted, counted in acceptance order. */
	private long acceptedSeq;

	/** With a journal: the acceptance number of the last message the peer acknowledged. */
	private volatile long acknowledgedSeq;

	/** Set for good by {@link #close}: nothing is accepted any more. */
	private @Nullable SendFailure closedWith;

	/** Whether a thread is in the drain loop; others only ask it to go round again. */
	private boolean draining;

	private boolean drainAgain;

	/** Whether a wake-up for the rate limiter is already scheduled. */
	private boolean rateWakeUpScheduled;

	private final @Nullable RateLimiter rateLimiter;

	private final List<CompletableFuture<Void>> drainedWaiters = new ArrayList<>();

	public OutboundQueue(SendLimits limits, TaskScheduler scheduler, Executor completions, Observer observer) {
		this(limits, scheduler, completions, observer, 0);
	}

	/**
	 * A queue in resume mode when {@code replayLimitBytes} is positive (docs/RESUME-PROTOCOL.md): each
	 * data message gets an offset when it is first written and is kept until {@link #acknowledge}; its
	 * delivery future completes then, not when it is written, and a failed write leaves it to be written
	 * again by {@link #resume}.
	 * @param replayLimitBytes the most unacknowledged bytes kept ({@link Observer#replayOverflow} past
	 * it), or 0 for a queue that does not resume
	 */
	public OutboundQueue(SendLimits limits, TaskScheduler scheduler, Executor completions, Observer observer,
			long replayLimitBytes) {
		this.replay = (replayLimitBytes > 0) ? new SendReplay(replayLimitBytes) : null;
		this.limits = limits;
		this.completions = completions;
		this.scheduler = scheduler;
		this.observer = observer;
		this.rateLimiter = limits.rateLimited()
				? new RateLimiter(limits.messagesPerSecond(), limits.burst(), scheduler.getClock()) : null;
	}

	/**
	 * Offers a message whose sender watches the outcome; returns at once except under BLOCK with a full
	 * buffer.
	 * @throws IllegalArgumentException if the message is unobserved: it has no future to return
	 */
	public SendResult offer(OutboundMessage message) {
		if (!message.isObserved()) {
			throw new IllegalArgumentException("An unobserved message has no delivery to return; use offerAndForget");
		}
		DeliveryFuture delivery = new DeliveryFuture(this.completions);
		message.delivery = delivery;
		SendFailure refused = enqueue(message);
		return (refused != null) ? SendResult.rejected(refused) : SendResult.accepted(delivery);
	}

	/**
	 * Offers a message whose outcome nobody waits for, with the same limits and policies as
	 * {@link #offer}, but without building a {@link SendResult}: a refusal, and every later failure,
	 * reaches only the {@link Observer}.
	 * @return whether the message was accepted into the buffer
	 */
	public boolean offerAndForget(OutboundMessage message) {
		return enqueue(message) == null;
	}

	// Returns null when the message was queued, else why it was refused (already told to the observer).
	private @Nullable SendFailure enqueue(OutboundMessage message) {
		List<OutboundMessage> evicted = new ArrayList<>();
		SendFailure refused;
		Journal journaling = this.journal;
		this.lock.lock();
		try {
			refused = admit(message, evicted, true);
			if (refused == null) {
				this.queue.addLast(message);
				this.bufferedBytes += message.size();
				if (journaling != null) {
					message.seq = ++this.acceptedSeq;
				}
			}
		}
		finally {
			this.lock.unlock();
		}
		if (refused == null && journaling != null) {
			journaling.accepted(message.seq, message);
		}
		settle(evicted, refused);
		return refused;
	}

	/**
	 * Offers an application-level heartbeat message (a ping, or the answer to one): it is written
	 * before every queued data message, since it must not wait behind the data it is meant to see
	 * past, but at most one waits at a time. While one waits, another is not queued: the waiting one
	 * answers for both, as RFC 6455 allows for pongs (heartbeat texts are all alike). So a peer that
	 * pings as fast as it can and never reads holds one waiting message, not one per ping.
	 * <p>
	 * Its bytes count toward the buffer limit like data: when they do not fit, the overflow policy
	 * applies (a refusal is told to the {@link Observer}, {@link OverflowPolicy#CLOSE} asks the owner
	 * to close, {@link OverflowPolicy#DROP_OLDEST} evicts queued data), except that
	 * {@link OverflowPolicy#BLOCK} refuses at once instead of waiting: the caller is a reading or
	 * timer thread.
	 * @return whether a heartbeat message now waits: this one, or the earlier one that answers for it;
	 * false when it was refused
	 */
	public boolean offerHeartbeat(OutboundMessage message) {
		List<OutboundMessage> evicted = new ArrayList<>();
		SendFailure refused;
		this.lock.lock();
		try {
			if (this.heartbeat != null) {
				return true;
			}
			refused = admit(message, evicted, false);
			if (refused == null) {
				this.heartbeat = message;
				this.bufferedBytes += message.size();
			}
		}
		finally {
			this.lock.unlock();
		}
		settle(evicted, refused);
		return refused == null;
	}

	/**
	 * Offers a control message of the resume protocol: written before any data (also while no writer
	 * is attached it waits for the next), outside the buffer limit. An acknowledgement replaces one
	 * that still waits, and is dropped while no writer is attached: the next transport starts with a
	 * session answer that counts at least as much, and must come first. It is also dropped when it
	 * counts no more than an acknowledgement or session answer taken before it (decided earlier on
	 * another thread, offered later), so that what the peer reads never counts backwards. Refused once
	 * the queue is closed.
	 */
	public void offerControl(OutboundMessage message) {
		if (!message.isControl()) {
			throw new IllegalArgumentException("Not a control message");
		}
		this.lock.lock();
		try {
			if ((this.closedWith != null || isAcknowledgement(message)) && this.writer == null) {
				return;
			}
			if (!addControl(message)) {
				return;
			}
		}
		finally {
			this.lock.unlock();
		}
		drain();
	}

	/**
	 * {@link #offerControl(OutboundMessage)}, but only while {@code through} is the attached writer: an
	 * acknowledgement decided for one transport means nothing on the next one, whose session answer
	 * already counted more.
	 * @return whether the message was taken
	 */
	public boolean offerControl(OutboundMessage message, MessageWriter through) {
		if (!message.isControl()) {
			throw new IllegalArgumentException("Not a control message");
		}
		this.lock.lock();
		try {
			if (this.writer != through || !addControl(message)) {
				return false;
			}
		}
		finally {
			this.lock.unlock();
		}
		drain();
		return true;
	}

	// Called under the lock: acknowledgements are cumulative, so a new one replaces one still waiting, and
	// one that counts no more than an acknowledgement or session answer taken before is dropped (it was
	// decided before that one and offered after it). Returns whether the message was taken.
	private boolean addControl(OutboundMessage message) {
		// An R, which acknowledges too, never comes here: the client writes it on its new transport itself.
		long counts = ResumeWire.acknowledgedBy(message.text());
		if (isAcknowledgement(message)) {
			if (counts >= 0 && counts <= this.acknowledgedToPeer) {
				return false;
			}
			OutboundMessage last = this.controls.peekLast();
			if (last != null && isAcknowledgement(last)) {
				this.controls.pollLast();
			}
		}
		this.acknowledgedToPeer = Math.max(this.acknowledgedToPeer, counts);
		this.controls.addLast(message);
		return true;
	}

	/**
	 * Resume mode: a new session starts on {@code writer} (the server answered a new session, refused a
	 * resume, or does not speak the protocol): numbering starts again at 1. Whatever the earlier session
	 * wrote and did not see acknowledged fails with {@link SendFailure#NOT_RECOVERED}.
	 * @param numbered whether the peer acknowledges (it speaks the protocol); when false, messages are
	 * delivered when written, as without resume, until the next call
	 * @param previousLost whether an earlier session was lost: then what was queued for it fails too
	 * (sent before its sender could know), instead of going out in the new one
	 */
	public void startSession(MessageWriter writer, boolean numbered, boolean previousLost) {
		SendReplay replay = requireReplay();
		List<OutboundMessage> failed = new ArrayList<>();
		this.lock.lock();
		try {
			failed.addAll(replay.restart());
			if (previousLost) {
				failed.addAll(takeAllQueued());
			}
			this.replayOverflowed = false;
			// The new session's peer counts from 0 again.
			this.acknowledgedToPeer = 0;
			this.numbering = numbered;
			this.writer = writer;
			this.roomMade.signalAll();
		}
		finally {
			this.lock.unlock();
		}
		failed.forEach((message) -> fail(message, SendFailure.NOT_RECOVERED, null));
		drain();
	}

	private static boolean isAcknowledgement(OutboundMessage control) {
		return control.text().startsWith("\u0000A");
	}

	/**
	 * Resume mode: the peer has received {@code received} data messages of this session; their delivery
	 * futures complete.
	 * @throws io.resilientws.resume.ResumeProtocolException when the count goes back or counts a
	 * message never written: the peer broke the protocol
	 */
	public void acknowledge(long received) {
		SendReplay replay = requireReplay();
		List<OutboundMessage> acknowledged;
		this.lock.lock();
		try {
			acknowledged = replay.acknowledge(received);
			noteAcknowledged(acknowledged);
		}
		finally {
			this.lock.unlock();
		}
		acknowledged.forEach(OutboundQueue::delivered);
	}

	// Called under the lock.
	private void noteAcknowledged(List<OutboundMessage> acknowledged) {
		if (!acknowledged.isEmpty()) {
			this.acknowledgedSeq = Math.max(this.acknowledgedSeq, acknowledged.get(acknowledged.size() - 1).seq);
		}
	}

	/**
	 * Resume mode: starts writing through a new transport whose peer has received {@code peerReceived}
	 * messages. Those complete; every later one is written again, in order, after the control messages
	 * waiting (the session answer) and before anything queued.
	 * @throws io.resilientws.resume.ResumeProtocolException when the count is not one the session can
	 * have
	 */
	public void resume(MessageWriter writer, long peerReceived) {
		SendReplay replay = requireReplay();
		List<OutboundMessage> acknowledged;
		this.lock.lock();
		try {
			acknowledged = replay.acknowledge(peerReceived);
			noteAcknowledged(acknowledged);
			replay.resendUnacknowledged();
			this.writer = writer;
		}
		finally {
			this.lock.unlock();
		}
		acknowledged.forEach(OutboundQueue::delivered);
		drain();
	}

	/**
	 * Resume mode: whether a peer may say it has received {@code peerReceived} messages: no fewer than it
	 * acknowledged, no more than were written.
	 */
	public boolean canResumeFrom(long peerReceived) {
		SendReplay replay = requireReplay();
		this.lock.lock();
		try {
			return replay.canResumeFrom(peerReceived);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Resume mode across instances (docs/RESUME-PROTOCOL.md §7): every data message accepted is numbered
	 * in acceptance order and handed to {@code journal}, so that another instance can deliver it if this
	 * one dies before the peer acknowledged it, written or not.
	 * @param lastSeq the acceptance number of the last message journaled before (of a session taken over)
	 */
	public void journalTo(Journal journal, long lastSeq) {
		this.lock.lock();
		try {
			this.acceptedSeq = lastSeq;
			this.journal = journal;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Keeps accepted data messages where another instance finds them. Called outside the queue's lock,
	 * so possibly out of order between threads: the acceptance number says the order.
	 */
	public interface Journal {

		/** {@code message} was accepted, as number {@code seq}. */
		void accepted(long seq, OutboundMessage message);

		/** The message accepted as {@code seq} will not be written: it was dropped or failed. */
		void dropped(long seq);

		/**
		 * Completes when the message accepted as {@code seq} is in the journal, or could not be put there:
		 * it is written only then, so that its peer never has a message the journal lacks. Completes on
		 * a thread that may write.
		 */
		CompletableFuture<?> appended(long seq);

	}

	/** A message of a journal, with its acceptance number. */
	public record Journaled(long seq, OutboundMessage message) {
	}

	/** With a journal: the acceptance number of the last data message accepted so far. */
	public long acceptedSeq() {
		this.lock.lock();
		try {
			return this.acceptedSeq;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** With a journal: the acceptance number of the last message the peer acknowledged (0 before any). */
	public long acknowledgedSeq() {
		return this.acknowledgedSeq;
	}

	/**
	 * Resume mode: a session taken over from another instance, whose client has received
	 * {@code peerReceived} messages and lacks {@code unacknowledged} (journaled there, oldest first):
	 * they are numbered after that and written first, after the control messages.
	 */
	public void adopt(long peerReceived, List<Journaled> unacknowledged) {
		SendReplay replay = requireReplay();
		this.lock.lock();
		try {
			List<OutboundMessage> messages = new ArrayList<>(unacknowledged.size());
			for (Journaled journaled : unacknowledged) {
				journaled.message().seq = journaled.seq();
				journaled.message().journaled = true;
				messages.add(journaled.message());
			}
			replay.adopt(peerReceived, messages);
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Resume mode: the offset of the last data message written (0 before the first). */
	public long lastWritten() {
		SendReplay replay = requireReplay();
		this.lock.lock();
		try {
			return replay.lastWritten();
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Resume mode: bytes written and not yet acknowledged by the peer. */
	public long unacknowledgedBytes() {
		SendReplay replay = requireReplay();
		this.lock.lock();
		try {
			return replay.unacknowledgedBytes();
		}
		finally {
			this.lock.unlock();
		}
	}

	private SendReplay requireReplay() {
		if (this.replay == null) {
			throw new IllegalStateException("Not a queue in resume mode");
		}
		return this.replay;
	}

	// Outside the lock: tells what enqueue or offerHeartbeat decided, and writes what can be written.
	private void settle(List<OutboundMessage> evicted, @Nullable SendFailure refused) {
		evicted.forEach((dropped) -> fail(dropped, SendFailure.DROPPED_OLDEST, null));
		if (refused != null) {
			this.observer.undelivered(refused);
			if (refused == SendFailure.BUFFER_FULL && this.limits.overflow() == OverflowPolicy.CLOSE) {
				this.observer.overflowClose();
			}
		}
		drain();
	}

	// Called under the lock. Returns null when the message may be queued, else why it is refused.
	// Under BLOCK it waits for room only when mayBlock is true.
	private @Nullable SendFailure admit(OutboundMessage message, List<OutboundMessage> evicted, boolean mayBlock) {
		if (this.closedWith != null) {
			return this.closedWith;
		}
		if (message.size() > this.limits.bufferLimit()) {
			return SendFailure.MESSAGE_TOO_LARGE;
		}
		long waitNanos = this.limits.blockTimeout().toNanos();
		while (this.bufferedBytes + message.size() > this.limits.bufferLimit()) {
			switch (this.limits.overflow()) {
				case REJECT, CLOSE -> {
					return SendFailure.BUFFER_FULL;
				}
				case DROP_OLDEST -> {
					OutboundMessage oldest = this.queue.pollFirst();
					if (oldest == null) {
						// Only the message being written holds the space; it cannot be taken back.
						return SendFailure.BUFFER_FULL;
					}
					this.bufferedBytes -= oldest.size();
					evicted.add(oldest);
				}
				case BLOCK -> {
					if (!mayBlock) {
						return SendFailure.BUFFER_FULL;
					}
					if (waitNanos <= 0) {
						return SendFailure.BLOCK_TIMEOUT;
					}
					try {
						waitNanos = this.roomMade.awaitNanos(waitNanos);
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
						return SendFailure.INTERRUPTED;
					}
					if (this.closedWith != null) {
						return this.closedWith;
					}
				}
			}
		}
		return null;
	}

	/** Starts writing through {@code writer}: the connection is open. */
	public void attach(MessageWriter writer) {
		this.lock.lock();
		try {
			if (this.closedWith != null) {
				return;
			}
			this.writer = writer;
		}
		finally {
			this.lock.unlock();
		}
		drain();
	}

	/**
	 * Stops writing: the connection is gone. The message being written is left to its write's outcome;
	 * queued messages keep waiting for the next {@link #attach} when {@code failQueuedWith} is null, or
	 * fail with it.
	 */
	public void detach(@Nullable SendFailure failQueuedWith) {
		detachLater(failQueuedWith).run();
	}

	/**
	 * {@link #detach} for an owner that holds its own lock: the writer is gone when this returns, and
	 * the returned action fails the queued messages (completing their futures); run it after that lock
	 * is released.
	 */
	public Runnable detachLater(@Nullable SendFailure failQueuedWith) {
		List<OutboundMessage> failed = new ArrayList<>();
		this.lock.lock();
		try {
			this.writer = null;
			if (this.inFlight != null) {
				// Its write belongs to the dead transport; free its bytes now, let the write report its fate.
				// In resume mode a data message stays in the replay, to be written again on the next one.
				if (this.inFlightCounted) {
					this.bufferedBytes -= this.inFlight.size();
				}
				this.inFlight = null;
				this.inFlightSince = null;
			}
			// What was said to the dead transport's peer means nothing to the next one.
			this.controls.clear();
			if (failQueuedWith != null) {
				failed.addAll(takeAllQueued());
			}
			this.roomMade.signalAll();
		}
		finally {
			this.lock.unlock();
		}
		return () -> {
			failed.forEach((message) -> fail(message, failQueuedWith, null));
			completeDrainedWaiters();
		};
	}

	/** Closes for good: queued messages fail with {@code reason}, later sends are rejected with it. */
	public void close(SendFailure reason) {
		closeLater(reason).run();
	}

	/**
	 * {@link #close} for an owner that holds its own lock: nothing is accepted or written once this
	 * returns, and the returned action fails the queued messages; run it after that lock is released.
	 */
	public Runnable closeLater(SendFailure reason) {
		List<OutboundMessage> failed;
		this.lock.lock();
		try {
			this.closedWith = reason;
			this.writer = null;
			failed = takeAllQueued();
			this.controls.clear();
			if (this.replay != null) {
				// Written but never acknowledged: in resume mode the peer may not have them.
				failed.addAll(this.replay.discard());
			}
			this.roomMade.signalAll();
		}
		finally {
			this.lock.unlock();
		}
		return () -> {
			failed.forEach((message) -> fail(message, reason, null));
			completeDrainedWaiters();
		};
	}

	/**
	 * Refuses every message offered from now on with {@code reason}, until {@link #reopen}; what is
	 * already queued stays and is still written. The admission switch of a state machine: cheap, and
	 * safe under the owner's lock, so that no message slips in between a state change and the queue's.
	 */
	public void refuseNew(SendFailure reason) {
		this.lock.lock();
		try {
			this.closedWith = reason;
			this.roomMade.signalAll();
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Accepts messages again after {@link #close}: the connection was started again. */
	public void reopen() {
		this.lock.lock();
		try {
			this.closedWith = null;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Completes when nothing is queued or being written, or when the queue is detached or closed. */
	public CompletableFuture<Void> whenDrained() {
		CompletableFuture<Void> waiter = new CompletableFuture<>();
		this.lock.lock();
		try {
			// A waiter its owner completed itself (a timeout) is done with: do not keep it until the drain.
			this.drainedWaiters.removeIf(CompletableFuture::isDone);
			this.drainedWaiters.add(waiter);
		}
		finally {
			this.lock.unlock();
		}
		completeDrainedWaiters();
		return waiter;
	}

	/** Bytes accepted but not yet written. */
	public long bufferedBytes() {
		this.lock.lock();
		try {
			return this.bufferedBytes;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** When the write now in progress started; empty when no write is in progress. Never blocks. */
	public Optional<Instant> writingSince() {
		return Optional.ofNullable(this.inFlightSince);
	}

	/** Fails every queued message (not the one being written) with {@code reason}; returns how many. */
	public int discardQueued(SendFailure reason) {
		List<OutboundMessage> failed;
		this.lock.lock();
		try {
			failed = takeAllQueued();
			this.roomMade.signalAll();
		}
		finally {
			this.lock.unlock();
		}
		failed.forEach((message) -> fail(message, reason, null));
		return failed.size();
	}

	/** Messages accepted and not yet written (including the one being written and a waiting heartbeat). */
	public int queuedMessages() {
		this.lock.lock();
		try {
			return this.queue.size() + ((this.inFlight != null) ? 1 : 0) + ((this.heartbeat != null) ? 1 : 0);
		}
		finally {
			this.lock.unlock();
		}
	}

	private List<OutboundMessage> takeAllQueued() {
		List<OutboundMessage> taken = new ArrayList<>(this.queue.size() + 1);
		if (this.heartbeat != null) {
			taken.add(this.heartbeat);
			this.heartbeat = null;
		}
		taken.addAll(this.queue);
		this.queue.clear();
		for (OutboundMessage message : taken) {
			this.bufferedBytes -= message.size();
		}
		return taken;
	}

	// Writes queued messages one at a time. A write that completes on the calling thread re-enters
	// here; instead of recursing it sets drainAgain, and the thread already in the loop goes on.
	private void drain() {
		this.lock.lock();
		try {
			if (this.draining) {
				this.drainAgain = true;
				return;
			}
			this.draining = true;
		}
		finally {
			this.lock.unlock();
		}
		boolean replayOverflow = false;
		while (true) {
			OutboundMessage next;
			OutboundMessage onWire;
			MessageWriter target;
			this.lock.lock();
			try {
				this.drainAgain = false;
				next = takeNextWritable();
				target = this.writer;
				// While the peer speaks the resume protocol, a data message that starts with NUL is escaped
				// on the wire (RESUME-PROTOCOL §2); a plain peer gets it as it is.
				onWire = (next != null && this.replay != null && this.numbering && !next.isControl())
						? next.escapedForResume() : next;
				if (this.replay != null && !this.replayOverflowed && this.replay.overLimit()) {
					this.replayOverflowed = true;
					replayOverflow = true;
				}
				if (next == null || target == null) {
					if (!this.drainAgain) {
						this.draining = false;
						break;
					}
					continue;
				}
			}
			finally {
				this.lock.unlock();
			}
			write(target, next, onWire);
		}
		if (replayOverflow) {
			this.observer.replayOverflow();
		}
		completeDrainedWaiters();
	}

	// Called under the lock. Control messages first, then the heartbeat, then resends, then the queue.
	private @Nullable OutboundMessage takeNextWritable() {
		if (this.inFlight != null || this.writer == null || nothingToWrite()) {
			return null;
		}
		if (!this.controls.isEmpty()) {
			return startWrite(this.controls.pollFirst(), false);
		}
		if (this.rateLimiter != null && !this.rateLimiter.tryAcquire()) {
			scheduleRateWakeUp(this.rateLimiter.timeToNextToken());
			return null;
		}
		if (this.heartbeat != null) {
			OutboundMessage heartbeatMessage = this.heartbeat;
			this.heartbeat = null;
			return startWrite(heartbeatMessage, true);
		}
		if (this.replay != null && this.replay.hasResends()) {
			return startWrite(this.replay.pollResend(), false);
		}
		OutboundMessage next = this.queue.pollFirst();
		if (this.replay != null && this.numbering && next != null) {
			this.replay.number(next);
		}
		return startWrite(next, true);
	}

	// Called under the lock.
	private boolean nothingToWrite() {
		return this.queue.isEmpty() && this.heartbeat == null && this.controls.isEmpty()
				&& (this.replay == null || !this.replay.hasResends());
	}

	// Called under the lock. counted: whether the message's bytes are in bufferedBytes.
	private @Nullable OutboundMessage startWrite(@Nullable OutboundMessage message, boolean counted) {
		this.inFlight = message;
		this.inFlightCounted = counted;
		this.inFlightWriter = this.writer;
		this.inFlightSince = this.scheduler.getClock().instant();
		return message;
	}

	private void scheduleRateWakeUp(Duration delay) {
		if (!this.rateWakeUpScheduled) {
			this.rateWakeUpScheduled = true;
			this.scheduler.schedule(() -> {
				this.lock.lock();
				try {
					this.rateWakeUpScheduled = false;
				}
				finally {
					this.lock.unlock();
				}
				drain();
			}, this.scheduler.getClock().instant().plus(delay));
		}
	}

	private void write(MessageWriter target, OutboundMessage message, OutboundMessage onWire) {
		CompletableFuture<?> written;
		try {
			Journal journaling = this.journal;
			CompletableFuture<?> appended = null;
			if (journaling != null && message.seq > 0 && !message.journaled) {
				// Its first write: a resend was in the journal before.
				message.journaled = true;
				appended = journaling.appended(message.seq);
			}
			written = (appended == null || appended.isDone()) ? target.write(onWire)
					: appended.handle((ignored, failure) -> null).thenCompose((ignored) -> target.write(onWire));
		}
		catch (RuntimeException ex) {
			written = CompletableFuture.failedFuture(ex);
		}
		written.whenComplete((ignored, failure) -> writeCompleted(target, message, failure));
	}

	private void writeCompleted(MessageWriter target, OutboundMessage message, @Nullable Throwable failure) {
		boolean transportBroken = false;
		this.lock.lock();
		try {
			if (this.inFlight == message && this.inFlightWriter == target) {
				this.inFlight = null;
				this.inFlightSince = null;
				this.inFlightWriter = null;
				if (this.inFlightCounted) {
					this.bufferedBytes -= message.size();
				}
				this.roomMade.signalAll();
			}
			if (failure != null && this.writer == target) {
				// The transport is broken: nothing more goes through it until the owner attaches a new
				// one. Writing the next message at once could even block for good: Tomcat fails a
				// pending write from inside its close, on a thread that a new write then parks forever.
				this.writer = null;
				transportBroken = true;
			}
		}
		finally {
			this.lock.unlock();
		}
		// In resume mode a numbered message is delivered when the peer acknowledges it, and one whose write
		// failed is written again on the next transport: it has not failed yet.
		boolean replayed = this.replay != null && message.offset > 0;
		if (failure == null) {
			if (!message.isControl()) {
				this.observer.written(message);
			}
			if (!replayed) {
				delivered(message);
			}
		}
		else {
			if (!replayed && !message.isControl()) {
				fail(message, SendFailure.WRITE_FAILED, failure);
			}
			if (transportBroken) {
				this.observer.writeFailed(failure);
			}
		}
		drain();
	}

	private static void delivered(OutboundMessage message) {
		CompletableFuture<Void> delivery = message.delivery;
		if (delivery != null) {
			// Its stages, if any, run on the completions executor (DeliveryFuture): completing here is safe.
			delivery.complete(null);
		}
	}

	private void fail(OutboundMessage message, SendFailure reason, @Nullable Throwable cause) {
		Journal journaling = this.journal;
		if (journaling != null && message.seq > 0 && reason != SendFailure.HANDED_OVER) {
			journaling.dropped(message.seq);
		}
		this.observer.undelivered(reason);
		CompletableFuture<Void> delivery = message.delivery;
		if (delivery != null) {
			delivery.completeExceptionally(new UndeliveredMessageException(reason, cause));
		}
	}

	private void completeDrainedWaiters() {
		List<CompletableFuture<Void>> done;
		this.lock.lock();
		try {
			boolean drained = (nothingToWrite() && this.inFlight == null) || this.writer == null;
			if (!drained || this.drainedWaiters.isEmpty()) {
				return;
			}
			done = new ArrayList<>(this.drainedWaiters);
			this.drainedWaiters.clear();
		}
		finally {
			this.lock.unlock();
		}
		done.forEach((waiter) -> this.completions.execute(() -> waiter.complete(null)));
	}

	@Override
	public String toString() {
		return "OutboundQueue[buffered=" + bufferedBytes() + " bytes, limit=" + this.limits.bufferLimit() + "]";
	}

}
