package io.resilientws.server;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.function.LongSupplier;

import io.resilientws.resume.AckSchedule;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeWire;
import org.jspecify.annotations.Nullable;

import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.WebSocketSession;

/**
 * What one resuming session keeps across its connections (docs/RESUME-PROTOCOL.md): whether a
 * connection is attached, its tokens, what it has received from the client and owes an
 * acknowledgement for, and the handler to tell when the session finally ends.
 * <p>
 * Every method decides under this object's lock and returns what the caller is to do after it:
 * no write, timer, event or callback runs here.
 */
final class SessionResume {

	/** How many of a session's earlier tokens are remembered to recognise a reuse. */
	private static final int REMEMBERED_TOKENS = 8;

	enum State {

		/** A connection carries the session. */
		ATTACHED,
		/** The connection was lost; the session waits for its client within the window. */
		DETACHED,
		/** Over: resumes are refused. */
		ENDED

	}

	private final WebSocketHandler handler;

	private final LongSupplier nanoTime;

	private final SecureRandom random;

	private final AckSchedule received;

	/** Earlier tokens of this session, newest last; a resume with one of them is a reuse. */
	private final ArrayDeque<String> usedTokens = new ArrayDeque<>();

	/** Written under this object's lock; read without it by {@link #state()}, which isOpen() calls per send. */
	private volatile State state = State.ATTACHED;

	/** The newest token, sent in the latest {@code S}. */
	private String token;

	/**
	 * The token the client resumed with last, still good until it shows it has the newest one (it sends
	 * anything after that {@code S}): a connection that dies between the server's {@code S} and the
	 * client's reading of it must not make the client's only token a reused one. Null once confirmed.
	 */
	private volatile @Nullable String unconfirmed;

	/** The close that detached the session: what its handler hears if the session expires. */
	private @Nullable CloseStatus lostWith;

	private @Nullable ScheduledFuture<?> expiry;

	/** When the detached session ends; null while attached. */
	private @Nullable Instant expiresAt;

	/** How many data messages the handler has finished with; counted in cluster mode only (for the store). */
	private long handled;

	/**
	 * Client messages still to drop as resends of ones this session received: after a resume whose
	 * answer counted only what the store has (cluster mode), the client sends the rest again.
	 */
	private long resendsToDrop;

	/**
	 * The connection whose data messages count while attached: null until the first resume (until then
	 * the session has had one connection only), then the one the latest resume answered on. Set with the count that
	 * answer carries, under this lock: a message that the reading thread of a connection given up
	 * brings after that answer was not counted in it, and its client sends it again on the new one.
	 */
	private @Nullable WebSocketSession current;

	/** Whether a timer for the acknowledgement delay is pending. */
	private boolean ackTimerPending;

	/** Set once more was unacknowledged than the replay limit: the session can no longer resume. */
	private boolean overflowed;

	SessionResume(WebSocketHandler handler, LongSupplier nanoTime, SecureRandom random) {
		this(handler, nanoTime, random, ResumeWire.newToken(random), new AckSchedule(), null);
	}

	private SessionResume(WebSocketHandler handler, LongSupplier nanoTime, SecureRandom random, String token,
			AckSchedule received, @Nullable String unconfirmed) {
		this.handler = handler;
		this.nanoTime = nanoTime;
		this.random = random;
		this.received = received;
		this.token = token;
		this.unconfirmed = unconfirmed;
	}

	/**
	 * The state of a session taken over from another instance with its new {@code token}, whose client
	 * presented {@code presented} (good until the client shows it has the new token) and whose messages
	 * counted {@code clientReceived}.
	 */
	static SessionResume takenOver(WebSocketHandler handler, LongSupplier nanoTime, SecureRandom random, String token,
			String presented, long clientReceived) {
		SessionResume resume = new SessionResume(handler, nanoTime, random, token, AckSchedule.continuing(clientReceived),
				presented);
		resume.handled = clientReceived;
		return resume;
	}

	/** The answer to the client of a session taken over from another instance: recovered. */
	synchronized String takenOverAnswer() {
		return ResumeWire.write(new ResumeFrame.Session(this.token, this.received.receivedCount(), true, null));
	}

	/** How many of its client's data messages the session's handler has finished with. */
	synchronized long handledCount() {
		return this.handled;
	}

	/**
	 * The handler finished with a data message.
	 * @return how many it has finished with now
	 */
	synchronized long handled() {
		return ++this.handled;
	}

	/** The application's handler, told of the session's end when it ends detached. */
	WebSocketHandler handler() {
		return this.handler;
	}

	synchronized String token() {
		return this.token;
	}

	synchronized List<String> usedTokens() {
		return List.copyOf(this.usedTokens);
	}

	State state() {
		return this.state;
	}

	/** The answer to a new session's {@code N}, or to a refused resume. */
	synchronized String newSessionAnswer(ResumeFrame.@Nullable RefusalReason refused) {
		return ResumeWire.write(new ResumeFrame.Session(this.token, 0, false, refused));
	}

	/**
	 * The connection was lost abnormally: the session waits for its client, unless it cannot resume.
	 * @return whether it is now detached
	 */
	synchronized boolean detach(CloseStatus status) {
		if (this.state != State.ATTACHED || this.overflowed) {
			return false;
		}
		this.state = State.DETACHED;
		this.lostWith = status;
		return true;
	}

	/** The timer that ends the detached session at {@code at}, when the window has passed. */
	synchronized void expiresWith(ScheduledFuture<?> timer, Instant at) {
		this.expiry = timer;
		this.expiresAt = at;
	}

	/** When the detached session ends unless resumed; null while attached or ended. */
	synchronized @Nullable Instant detachedUntil() {
		return (this.state == State.DETACHED) ? this.expiresAt : null;
	}

	/**
	 * A client resumes with a new connection.
	 * @param stored the most client messages the answer may count: in cluster mode what the store has
	 * (what was acknowledged), so that an instance that takes the session over later never answers with
	 * less than the client was told; {@code Long.MAX_VALUE} otherwise. The client then sends again what
	 * arrived beyond it, and those resends are dropped ({@link #dataReceived}): the handler has them.
	 * @param connection the new connection: from now on only its data messages count
	 * @return the answer {@code S} to write first on it, and whether the session was detached (else its
	 * connection is being replaced), or null when the session cannot resume (it ended, or overflowed)
	 */
	synchronized @Nullable Resumption resume(String presented, long stored, WebSocketSession connection) {
		if (this.state == State.ENDED || this.overflowed) {
			return null;
		}
		this.current = connection;
		boolean wasDetached = this.state == State.DETACHED;
		this.state = State.ATTACHED;
		cancelExpiry();
		this.lostWith = null;
		// Of the two good tokens, the one not presented is done with; the presented one stays good until
		// the client confirms the new one.
		String displaced = presented.equals(this.token) ? this.unconfirmed : this.token;
		if (displaced != null) {
			used(displaced);
		}
		this.unconfirmed = presented;
		this.token = ResumeWire.newToken(this.random);
		long received = this.received.receivedForHandshake();
		long answered = Math.min(received, stored);
		this.resendsToDrop = received - answered;
		return new Resumption(ResumeWire.write(new ResumeFrame.Session(this.token, answered, true, null)),
				wasDetached, displaced);
	}

	/**
	 * @param answer the {@code S} to write first
	 * @param wasDetached whether the session waited detached
	 * @param displaced a token that was good until now and no longer is, or null
	 */
	record Resumption(String answer, boolean wasDetached, @Nullable String displaced) {
	}

	/**
	 * The client sent something after the latest {@code S}: it has the newest token.
	 * @return the token that stops being good now, or null when none was waiting for this
	 */
	@Nullable String confirmed() {
		if (this.unconfirmed == null) {
			return null;
		}
		synchronized (this) {
			String confirmed = this.unconfirmed;
			if (confirmed != null) {
				this.unconfirmed = null;
				used(confirmed);
			}
			return confirmed;
		}
	}

	private void used(String token) {
		this.usedTokens.addLast(token);
		if (this.usedTokens.size() > REMEMBERED_TOKENS) {
			this.usedTokens.removeFirst();
		}
	}

	/** The tokens that resume this session now. */
	synchronized List<String> goodTokens() {
		return (this.unconfirmed != null) ? List.of(this.token, this.unconfirmed) : List.of(this.token);
	}

	/**
	 * The session ends for good.
	 * @return the close its handler is still owed if it ended detached, else null
	 */
	synchronized @Nullable CloseStatus end() {
		CloseStatus owed = (this.state == State.DETACHED) ? this.lostWith : null;
		this.state = State.ENDED;
		cancelExpiry();
		return owed;
	}

	/** More was written and unacknowledged than the replay limit. */
	synchronized void overflowed() {
		this.overflowed = true;
	}

	synchronized boolean isDetached() {
		return this.state == State.DETACHED;
	}

	/**
	 * A data message arrived from the client over {@code connection}.
	 * @return what to do about acknowledging it, or null when it is neither counted nor handled: a resend
	 * of one received before the latest resume (see {@link #resume(String, long, WebSocketSession)}), or a
	 * message of a connection that a resume replaced since its reading thread found it current (the
	 * answer did not count it, so the client sends it again), or a message of the lost connection of a
	 * detached session
	 */
	synchronized @Nullable AckDecision dataReceived(WebSocketSession connection, int size) {
		if (this.state != State.ATTACHED || (this.current != null && connection != this.current)) {
			// Detached: the lost connection's reading thread may still bring frames the container had
			// read, after others of them were dropped (the session was ending): counting one would make
			// the next answer count it in the place of the first one dropped.
			return null;
		}
		if (this.resendsToDrop > 0) {
			this.resendsToDrop--;
			return null;
		}
		long now = this.nanoTime.getAsLong();
		this.received.received(size, now);
		if (this.received.due(now)) {
			return AckDecision.now(this.received.take());
		}
		if (this.ackTimerPending) {
			return AckDecision.NONE;
		}
		this.ackTimerPending = true;
		return new AckDecision(null, 0, Math.max(0, this.received.deadlineNanos() - now));
	}

	/** The acknowledgement delay ran out: what to do now. */
	synchronized AckDecision ackTimerFired() {
		this.ackTimerPending = false;
		long now = this.nanoTime.getAsLong();
		if (this.received.due(now)) {
			return AckDecision.now(this.received.take());
		}
		long deadline = this.received.deadlineNanos();
		if (deadline == Long.MIN_VALUE || this.state == State.ENDED) {
			return AckDecision.NONE;
		}
		// Messages came after an acknowledgement emptied the schedule: wait for their own delay.
		this.ackTimerPending = true;
		return new AckDecision(null, 0, Math.max(0, deadline - now));
	}

	private void cancelExpiry() {
		if (this.expiry != null) {
			this.expiry.cancel(false);
			this.expiry = null;
		}
	}

	/**
	 * @param ack an acknowledgement to write now, or null
	 * @param acknowledges how many messages it acknowledges
	 * @param timerNanos start the delay timer for that many nanoseconds; -1 for no timer
	 */
	record AckDecision(@Nullable String ack, long acknowledges, long timerNanos) {

		static final AckDecision NONE = new AckDecision(null, 0, -1);

		static AckDecision now(ResumeFrame.Ack ack) {
			return new AckDecision(ResumeWire.write(ack), ack.received(), -1);
		}

	}

	@Override
	public String toString() {
		return "SessionResume[" + state() + "]";
	}

}
