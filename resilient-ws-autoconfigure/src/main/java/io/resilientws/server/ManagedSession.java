package io.resilientws.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import io.resilientws.heartbeat.Heartbeat;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeProtocolException;
import io.resilientws.resume.ResumeWire;
import io.resilientws.send.MessageWriter;
import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import io.resilientws.send.RateLimiter;
import io.resilientws.send.SendFailure;
import io.resilientws.send.SendResult;
import io.resilientws.send.SerialExecutor;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.PingMessage;
import org.springframework.web.socket.PongMessage;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.WebSocketSessionDecorator;

/**
 * A server session as the registry keeps it, and as the application's handler receives it: a
 * {@link WebSocketSession} whose {@link #sendMessage} no longer blocks or fails under concurrent
 * use, but goes into a send buffer bounded in bytes, written by one non-blocking write at a time.
 * <p>
 * {@link #send(String)} says what became of a message; {@link #sendMessage} (the Spring API that
 * existing handlers call) reports undelivered messages through meters and events instead, so that
 * a slow client never throws into the code that broadcasts to it.
 * <p>
 * A resuming session (docs/RESUME-PROTOCOL.md) is one logical session over a {@link TransportSwitch}:
 * a connection lost abnormally detaches it ({@link #detachOnLoss}), the client's next connection takes
 * it up again ({@link #resumeOn}), and the same object is what the handler holds throughout. In
 * cluster mode its state is also journaled ({@link SessionJournal}), so that another instance can take
 * it over ({@link #adopt}) after this one was drained ({@link #handOver}) or died.
 * <p>
 * Longer than our usual 500 lines on purpose: every path of a session passes through this object (the
 * Spring API, sends, inbound limits, the heartbeat, the cause a close is counted under, detach and
 * resume), and they share its state (who ended it, its connection, its send buffer). What has state
 * of its own lives apart: {@link OutboundQueue}, {@link InboundBackPressure}, {@link SessionResume},
 * {@link ResumeReceiver}, {@link TransportSwitch}, {@link SessionJournal}.
 */
public final class ManagedSession extends WebSocketSessionDecorator {

	private static final Log logger = LogFactory.getLog(ManagedSession.class);

	private final String endpoint;

	private final ServerSessionRegistry registry;

	private final OutboundQueue outbound;

	private final Heartbeat heartbeat;

	/** Guarded by itself. Null when inbound messages are not rate limited. */
	private final @Nullable RateLimiter inboundRate;

	private final Instant openedAt;

	/** At most one ping waits for the socket at a time; a stuck link holds one pool thread, not many. */
	private final AtomicBoolean pingInFlight = new AtomicBoolean();

	/** The application's ping waiting to be sent (see {@link #sendMessage}); null when none waits. */
	private final AtomicReference<@Nullable PendingFrame> pendingPing = new AtomicReference<>();

	/** The application's pong waiting to be sent; null when none waits. */
	private final AtomicReference<@Nullable PendingFrame> pendingPong = new AtomicReference<>();

	private final PingSender.Pingable pinger = new PingSender.Pingable() {
		@Override
		public boolean isWriting() {
			return ManagedSession.this.outbound.writingSince().isPresent();
		}

		@Override
		public void pingNow() {
			ManagedSession.this.pingNow();
		}

		@Override
		public void pingSkipped() {
			ManagedSession.this.heartbeat.pingSkipped();
		}
	};

	/** Whether {@link InboundBackPressure} has suspended reading this session's frames. */
	private final AtomicBoolean readingSuspended = new AtomicBoolean();

	private final InboundBackPressure.Reader reader = new InboundBackPressure.Reader() {
		@Override
		public boolean suspend() {
			if (!ManagedSession.this.readingSuspended.compareAndSet(false, true)) {
				return false;
			}
			if (!NativeSessions.suspend(transport())) {
				ManagedSession.this.readingSuspended.set(false);
				return false;
			}
			return true;
		}

		@Override
		public void resume() {
			if (ManagedSession.this.readingSuspended.compareAndSet(true, false)) {
				try {
					NativeSessions.resume(transport());
				}
				catch (RuntimeException ex) {
					logger.debug("Resuming the reading of session " + getId() + " failed", ex);
				}
				// Tomcat 11.0.22 loses a resume that comes while the reading thread is still leaving
				// the suspended read (WsFrameServer.onDataAvailable returns on an empty socket read
				// without handling frames already in its input buffer), and then reads only when more
				// bytes arrive. Seen in the chat benchmark: a sender waiting for its own last messages
				// stalled until the next heartbeat. A ping makes the client send a pong, whose bytes
				// wake the read; the heartbeat's guard keeps it to one ping at a time.
				ManagedSession.this.registry.pool().execute(ManagedSession.this::pingNow);
			}
		}
	};

	/**
	 * Who decided first that this session ends, and why; decides the cause its close is counted under.
	 * Set by compare-and-set from any thread, so that a later reason never replaces an earlier one.
	 */
	private final AtomicReference<@Nullable Ending> ending = new AtomicReference<>();

	/** Set once the application's handler has been told the session closed: nothing reaches it after. */
	private volatile boolean closed;

	/**
	 * Set once someone closes the session on purpose ({@link #closeAfterFlush}: the application, the
	 * drain, a reused token), whatever else was decided before: such a session ends, it never waits for
	 * its client or resumes.
	 */
	private volatile boolean closing;

	private static final String ATTRIBUTE = ManagedSession.class.getName();

	private final EndpointStatistics statistics;

	/** Cluster publications held back while a session taken over catches up; null otherwise. */
	private volatile @Nullable List<OutboundMessage> catchingUp;

	/** What a resuming session keeps across its connections; null for a session that does not resume. */
	private final @Nullable SessionResume resume;

	/** Takes what a resuming session's client sends; null for a session that does not resume. */
	private final @Nullable ResumeReceiver resumeReceiver;

	/** Where a resuming session's state is kept for other instances (a no-op without cluster mode). */
	private final ResumeStore store;

	/** A resuming session's lane to the store in cluster mode; null otherwise. */
	private volatile @Nullable SessionJournal journal;

	/** Whether this session continues one that another instance held (docs/RESUME-PROTOCOL.md §7). */
	private volatile boolean takenOver;

	/** Completes once a draining instance has handed the session over; null unless it is being handed over. */
	private volatile @Nullable CompletableFuture<Void> handedOver;

	/**
	 * Keeps the release of a session handed over behind the message its handler is working on; null for
	 * sessions that are never handed over (no resume, or no cluster), which then pay nothing per message.
	 */
	private final @Nullable InboundGate inboundGate;

	/**
	 * @param resume the resume state of a session whose client asked for it; its connection can then be
	 * replaced ({@link TransportSwitch})
	 * @param id the id of the session taken over from another instance, or null for the connection's own
	 */
	ManagedSession(WebSocketSession delegate, String endpoint, ServerSessionRegistry registry,
			EndpointStatistics statistics, @Nullable SessionResume resume, @Nullable String id) {
		super((resume != null) ? new TransportSwitch(delegate, (id != null) ? id : delegate.getId()) : delegate);
		this.endpoint = endpoint;
		this.registry = registry;
		this.statistics = statistics;
		this.resume = resume;
		ServerSettings settings = registry.settings();
		this.openedAt = registry.scheduler().getClock().instant();
		this.outbound = new OutboundQueue(settings.send(), registry.scheduler(), new SerialExecutor(registry.pool()),
				new OutboundQueue.Observer() {
					@Override
					public void undelivered(SendFailure reason) {
						undeliveredMessage(reason);
					}

					@Override
					public void overflowClose() {
						overflowed();
					}

					@Override
					public void written(OutboundMessage message) {
						statistics.messagesSent.increment();
					}

					@Override
					public void replayOverflow() {
						replayOverflowed();
					}

					@Override
					public void writeFailed(Throwable failure) {
						// Nothing more can be written: end the session now, heartbeat or not. A session the
						// server is already ending (whose close failed the pending write) is left to that.
						if (!serverEnded() && !ManagedSession.this.closed) {
							logger.debug("Write to session " + getId() + " failed; terminating it", failure);
							terminate(CloseCause.ERROR, new CloseStatus(1011, "write failed"));
						}
					}
				}, (resume != null) ? settings.resume().bufferLimit() : 0);
		this.heartbeat = new Heartbeat(settings.heartbeat(), registry.heartbeats(), new Heartbeat.Peer() {
			@Override
			public void sendPing() {
				registry.pings().ping(ManagedSession.this.pinger);
			}

			@Override
			public void declareDead(String description) {
				logger.debug("Session " + getId() + " on " + endpoint + " is dead: " + description);
				terminate(CloseCause.HEARTBEAT_TIMEOUT, new CloseStatus(1001, "heartbeat timeout"));
			}
		});
		this.store = registry.resumeStore();
		this.inboundGate = (resume != null && this.store.shared()) ? new InboundGate() : null;
		this.resumeReceiver = (resume != null) ? new ResumeReceiver(resume, this.outbound, registry.scheduler(),
				() -> this.journal, registry.pool()) : null;
		if (resume != null && this.store.shared()) {
			journalFrom(0);
		}
		this.inboundRate = (settings.inboundMessagesPerSecond() > 0) ? new RateLimiter(
				settings.inboundMessagesPerSecond(), settings.inboundBurst(), registry.scheduler().getClock()) : null;
	}

	/** The managed session of a raw one, also after it was unregistered; null for an untracked session. */
	static @Nullable ManagedSession of(WebSocketSession session) {
		return (ManagedSession) session.getAttributes().get(ATTRIBUTE);
	}

	/** @param resumeAnswer the {@code S} answer to write before anything else, for a resuming session */
	void opened(@Nullable String resumeAnswer) {
		WebSocketSession connection = transport();
		prepare(connection);
		if (resumeAnswer != null) {
			this.outbound.offerControl(OutboundMessage.control(resumeAnswer));
		}
		this.outbound.attach(writerFor(connection));
		this.heartbeat.start();
	}

	/**
	 * Continues a session that another instance held: its client has {@code peerReceived} of its
	 * messages and lacks {@code unacknowledged} (journaled there), which go out first.
	 */
	void adopt(long peerReceived, List<OutboundQueue.Journaled> unacknowledged, long lastSeq) {
		this.takenOver = true;
		this.outbound.adopt(peerReceived, unacknowledged);
		journalFrom(lastSeq);
	}

	private void journalFrom(long lastSeq) {
		SessionJournal lane = new SessionJournal(this.store, getId(), lastSeq, this.registry.pool());
		this.journal = lane;
		this.outbound.journalTo(lane, lastSeq);
	}

	/**
	 * Whether this session continues one that another instance of the cluster held until it was stopped
	 * or killed: the handler sees its open here, with the same id, and its client lost nothing
	 * (docs/RESUME-PROTOCOL.md §7).
	 */
	public boolean isTakenOver() {
		return this.takenOver;
	}

	/** Makes a connection this session's: found from its frames, with the session's limits. */
	private void prepare(WebSocketSession connection) {
		connection.getAttributes().put(ATTRIBUTE, this);
		ServerSettings settings = this.registry.settings();
		if (settings.maxMessageSize() > 0) {
			int limit = (int) Math.min(Integer.MAX_VALUE, settings.maxMessageSize());
			connection.setTextMessageSizeLimit(limit);
			connection.setBinaryMessageSizeLimit(limit);
		}
		NativeSessions.limitBlockingSends(connection, settings.heartbeat().timeout());
	}

	private MessageWriter writerFor(WebSocketSession connection) {
		return NativeSessions.writer(connection, this.registry.pool());
	}

	/** The connection that carries the session now (for a resuming session, the latest). */
	WebSocketSession transport() {
		return (getDelegate() instanceof TransportSwitch transports) ? transports.current() : getDelegate();
	}

	@Nullable SessionResume resume() {
		return this.resume;
	}

	/** When a detached session ends unless its client resumes it; empty for a connected session. */
	public Optional<Instant> detachedUntil() {
		return (this.resume != null) ? Optional.ofNullable(this.resume.detachedUntil()) : Optional.empty();
	}

	/** Whether the session lost its connection and waits for its client to resume it. */
	boolean isDetached() {
		return this.resume != null && this.resume.isDetached();
	}

	/** A resuming session is open until it ends, also while it waits for its client to come back. */
	@Override
	public boolean isOpen() {
		return (this.resume != null) ? !this.closed && this.resume.state() != SessionResume.State.ENDED
				: super.isOpen();
	}

	/** Bytes written to a resuming session's client and not yet acknowledged by it; 0 for other sessions. */
	public long unacknowledgedBytes() {
		return (this.resume != null) ? this.outbound.unacknowledgedBytes() : 0;
	}

	/**
	 * The connection was lost: a resuming session whose loss was not intended by either side (1006, a
	 * heartbeat death, a failed write, a 1001/1011/1012/1013 from the client) waits for its client
	 * instead of ending. Not while the registry drains: this instance will not be there to resume on.
	 * @return whether the session is now detached (its handler is told nothing)
	 */
	boolean detachOnLoss(CloseStatus status) {
		if (this.resume == null || this.closing || this.registry.isDraining()) {
			return false;
		}
		Ending ended = this.ending.get();
		boolean lost = (ended == null) ? isLossCode(status.getCode()) : endedByLoss(ended);
		if (!lost || !this.resume.detach(status)) {
			return false;
		}
		this.ending.set(null);
		this.heartbeat.stop();
		this.outbound.detach(null);
		return true;
	}

	/** Whether the server ended the connection because it was lost (a dead heartbeat, a failed write). */
	private static boolean endedByLoss(Ending ended) {
		return ended.application() == null
				&& (ended.server() == CloseCause.HEARTBEAT_TIMEOUT || ended.server() == CloseCause.ERROR);
	}

	// 3006: a resuming client gave the connection up for lost (a browser cannot drop it without a close
	// frame, and may send only 1000 and 3000-4999); see docs/RESUME-PROTOCOL.md §5.
	private static boolean isLossCode(int code) {
		return code == 1006 || code == 1001 || code == 1011 || code == 1012 || code == 1013
				|| code == ResumeWire.CONNECTION_GIVEN_UP;
	}

	/**
	 * Goes on over {@code connection}, whose client has received {@code clientReceived} of this session's
	 * messages: those complete, every later one is written again after the answer {@code S}. A connection
	 * still attached (the client saw the link die before the server did) is replaced and ended.
	 * @return the new token and how many messages are written again, or null when the session can no
	 * longer resume (it ended or overflowed)
	 * @throws io.resilientws.resume.ResumeProtocolException when the client claims messages never sent
	 */
	@Nullable Resumed resumeOn(WebSocketSession connection, String presentedToken, long clientReceived) {
		SessionResume resume = this.resume;
		if (resume == null) {
			return null;
		}
		long written = this.outbound.lastWritten();
		if (!this.outbound.canResumeFrom(clientReceived)) {
			// Checked before anything changes: a client that lies about its count leaves the session as it was.
			throw new ResumeProtocolException("the client's count " + clientReceived + " is not one of this session's");
		}
		Ending ended = this.ending.get();
		if (this.closing || (ended != null && !endedByLoss(ended))) {
			// Being closed on purpose (by the application, a policy, the drain): it ends, it does not resume.
			return null;
		}
		WebSocketSession previous = transport();
		SessionResume.Resumption resumption = resume.resume(presentedToken,
				(this.resumeReceiver != null) ? this.resumeReceiver.answerable() : Long.MAX_VALUE, connection);
		if (resumption == null) {
			return null;
		}
		boolean wasAttached = !resumption.wasDetached();
		String answer = resumption.answer();
		if (wasAttached) {
			this.heartbeat.stop();
			this.outbound.detach(null);
		}
		((TransportSwitch) getDelegate()).switchTo(connection);
		this.ending.set(null);
		this.readingSuspended.set(false);
		if (wasAttached) {
			// Its close, when it comes, finds it is no longer the session's connection and is ignored.
			this.registry.pool().execute(() -> {
				try {
					NativeSessions.terminate(previous, new CloseStatus(1001, "resumed on another connection"));
				}
				catch (IOException | RuntimeException ex) {
					logger.debug("Ending the replaced connection of session " + getId() + " failed", ex);
				}
			});
		}
		prepare(connection);
		long replayed = written - clientReceived;
		this.outbound.offerControl(OutboundMessage.control(answer));
		this.outbound.resume(writerFor(connection), clientReceived);
		if (this.resumeReceiver != null) {
			this.resumeReceiver.peerAcknowledged(clientReceived);
		}
		this.heartbeat.start();
		return new Resumed(resume.token(), replayed, !wasAttached, resumption.displaced());
	}

	/**
	 * @param token the session's new token, to be found by
	 * @param replayed messages written again
	 * @param wasDetached whether the session was waiting detached (else its connection was replaced)
	 * @param displaced a token that no longer resumes the session, or null
	 */
	record Resumed(String token, long replayed, boolean wasDetached, @Nullable String displaced) {
	}

	/** The path of the endpoint this session connected to, as registered. */
	public String endpoint() {
		return this.endpoint;
	}

	public Instant openedAt() {
		return this.openedAt;
	}

	/** The authenticated user's name, if any. */
	public Optional<String> principalName() {
		return Optional.ofNullable(getPrincipal()).map(java.security.Principal::getName);
	}

	/** Bytes accepted for this session and not yet written. */
	public long bufferedAmount() {
		return this.outbound.bufferedBytes();
	}

	/** The round trip of the latest answered ping. */
	public Optional<Duration> lastHeartbeatRoundTrip() {
		return Optional.ofNullable(this.heartbeat.lastRoundTrip());
	}

	/**
	 * The drain of a cluster instance (or another instance's request for a session detached here):
	 * instead of ending, a resuming session is handed over to whichever instance its client comes back
	 * to. Nothing more is written to its client; what is queued, and what is sent to it until it is
	 * released, is in the journal already (everything accepted is); then the store releases it (see
	 * {@link #finishHandOver}).
	 * @return completes once the session is released (or the release failed)
	 */
	CompletableFuture<Void> handOver(CloseStatus status, CloseCause cause, Duration timeout) {
		if (this.resume == null || this.journal == null) {
			return closeAfterFlush(status, cause, timeout);
		}
		CompletableFuture<Void> released = new CompletableFuture<>();
		this.handedOver = released;
		this.closing = true;
		serverEnds(cause);
		this.heartbeat.stop();
		if (isDetached()) {
			// No connection to close: released at once, and its handler hears the close here.
			finishHandOver().whenComplete((ignored, failure) ->
					this.registry.endDetached(this, ResumeFrame.RefusalReason.UNKNOWN, status));
			return released;
		}
		// No other instance takes it over until it is released here, after the client's last message.
		this.store.handingOver(getId()).whenCompleteAsync((ignored, failure) -> {
			this.outbound.detach(null);
			try {
				transport().close(status);
			}
			catch (IOException | RuntimeException ex) {
				logger.debug("Closing session " + getId() + " failed", ex);
			}
		}, this.registry.pool());
		return released;
	}

	/** Whether a draining instance is handing this session over to another instance. */
	boolean isHandedOver() {
		return this.handedOver != null;
	}

	/**
	 * The connection of a session being handed over closed: no client message reaches the handler from
	 * now on, and once the handler is done with the one it may still be working on (Tomcat reports a
	 * close it starts itself at once), nothing more is accepted, and once everything accepted is
	 * journaled, the store releases the session with the exact count of its client's messages.
	 */
	CompletableFuture<Void> finishHandOver() {
		CompletableFuture<Void> released = this.handedOver;
		SessionResume resume = this.resume;
		SessionJournal lane = this.journal;
		if (released == null || resume == null || lane == null) {
			return CompletableFuture.completedFuture(null);
		}
		// The connection's close can be reported while the handler still works on a client message.
		InboundGate gate = Objects.requireNonNull(this.inboundGate, "a session with a journal has a gate");
		gate.shut(() -> {
			this.store.stopTaking(getId(), () -> this.outbound.refuseNew(SendFailure.CLOSED));
			lane.release(resume.handledCount(), this.outbound.acceptedSeq()).whenComplete((ignored, failure) -> {
				if (failure != null) {
					logger.warn("Session " + getId() + " could not be handed over: " + failure.getMessage());
				}
				released.complete(null);
			});
		});
		return released;
	}

	/** Sends a text message without blocking; the result says whether it was accepted and, later, written. */
	public SendResult send(String text) {
		return send(OutboundMessage.text(text));
	}

	/** Sends a binary message (its remaining bytes, copied) without blocking. */
	public SendResult send(ByteBuffer data) {
		return send(OutboundMessage.binary(data));
	}

	SendResult send(OutboundMessage message) {
		SendResult result = this.outbound.offer(message);
		if (result.isAccepted()) {
			this.registry.backPressure().accepted(this.outbound);
		}
		return result;
	}

	/**
	 * Sends a message whose outcome nobody will look at (a broadcast, Spring's void API): no delivery
	 * future, so its write wakes no pool thread; an undelivered one is still counted and published.
	 * @return whether the message was accepted into the send buffer
	 */
	boolean sendAndForget(OutboundMessage message) {
		boolean accepted = this.outbound.offerAndForget(message);
		if (accepted) {
			this.registry.backPressure().accepted(this.outbound);
		}
		return accepted;
	}

	/**
	 * A copy of a cluster publication (this instance's or another's): queued, or held back while the
	 * session catches up after a takeover ({@link Fanout#adopt}).
	 */
	boolean deliverPublished(OutboundMessage copy) {
		List<OutboundMessage> held = this.catchingUp;
		if (held != null) {
			synchronized (held) {
				if (this.catchingUp == held) {
					held.add(copy);
					return true;
				}
			}
		}
		return sendAndForget(copy);
	}

	/**
	 * For the cluster fan-out: from now on, cluster publications for this session are held back until
	 * {@link #endCatchUp}.
	 */
	public void startCatchUp() {
		this.catchingUp = new ArrayList<>();
	}

	/**
	 * Queues {@code missed} (what was published for this session while no instance held it), then what
	 * was held back meanwhile that {@code keep} keeps, in order; then publications are queued as they come.
	 */
	public void endCatchUp(List<OutboundMessage> missed, Predicate<OutboundMessage> keep) {
		List<OutboundMessage> held = this.catchingUp;
		if (held == null) {
			return;
		}
		missed.forEach(this::sendAndForget);
		while (true) {
			List<OutboundMessage> batch;
			synchronized (held) {
				if (held.isEmpty()) {
					this.catchingUp = null;
					return;
				}
				batch = new ArrayList<>(held);
				held.clear();
			}
			// Queued outside the lock: the next batch, or the live stream, waits until this one is in.
			batch.stream().filter(keep).forEach(this::sendAndForget);
		}
	}

	/**
	 * The Spring API, made safe: text and binary go into the send buffer (an undelivered one is counted
	 * and published, never thrown), pings and pongs go out on the I/O pool, one of each kind at a time:
	 * one sent while an earlier one is still being written waits, and replaces any other that waits, so
	 * the latest is sent (as RFC 6455 allows for pongs). A handler that echoes every ping of a client
	 * that never reads holds one frame of each kind and one pool thread, not one task per ping.
	 */
	@Override
	public void sendMessage(WebSocketMessage<?> message) throws IOException {
		if (message instanceof TextMessage text) {
			sendAndForget(OutboundMessage.unobservedText(text.getPayload()));
		}
		else if (message instanceof BinaryMessage binary) {
			sendAndForget(OutboundMessage.unobservedBinary(binary.getPayload()));
		}
		else if (message instanceof PingMessage) {
			sendControlFrame(this.pendingPing, message);
		}
		else if (message instanceof PongMessage) {
			sendControlFrame(this.pendingPong, message);
		}
		else {
			throw new IllegalArgumentException("Unsupported message type " + message.getClass().getName());
		}
	}

	// The slot holds the latest frame until it has been sent; whoever fills an empty slot starts the one
	// task that sends it, and that task sends whatever replaced it meanwhile before it lets go.
	private void sendControlFrame(AtomicReference<@Nullable PendingFrame> slot, WebSocketMessage<?> frame) {
		if (slot.getAndSet(new PendingFrame(frame)) == null) {
			this.registry.pool().execute(() -> sendPending(slot));
		}
	}

	private void sendPending(AtomicReference<@Nullable PendingFrame> slot) {
		PendingFrame pending = slot.get();
		while (pending != null) {
			try {
				// Blocking, bounded by the blocking send timeout set in opened().
				transport().sendMessage(pending.frame());
			}
			catch (IOException | RuntimeException ex) {
				logger.debug("Control frame to session " + getId() + " failed", ex);
			}
			if (slot.compareAndSet(pending, null)) {
				return;
			}
			pending = slot.get();
		}
	}

	/** A fresh identity per send, so that sending the same frame object twice is not taken for one send. */
	private record PendingFrame(WebSocketMessage<?> frame) {
	}

	/** Closes after the messages already accepted are written (for at most the send time limit). */
	@Override
	public void close(CloseStatus status) {
		closeAfterFlush(status, null, this.registry.settings().sendTimeLimit());
	}

	/**
	 * A resuming session whose write or replay limit was passed: it can no longer resume, and a
	 * detached one ends now.
	 */
	private void replayOverflowed() {
		if (this.resume == null) {
			return;
		}
		this.resume.overflowed();
		overflowed();
	}

	@Override
	public void close() {
		close(CloseStatus.NORMAL);
	}

	/**
	 * Writes what is buffered (waiting at most {@code timeout}), then sends the close frame.
	 * @return completes when the close frame has been handed to the container
	 */
	CompletableFuture<Void> closeAfterFlush(CloseStatus status, @Nullable CloseCause cause, Duration timeout) {
		if (isDetached()) {
			// No connection to flush to or close: the session ends here, and its handler hears this close.
			this.registry.endDetached(this, ResumeFrame.RefusalReason.UNKNOWN, status);
			return CompletableFuture.completedFuture(null);
		}
		this.closing = true;
		if (cause != null) {
			serverEnds(cause);
		}
		else {
			applicationEnds(status);
		}
		// What was accepted before the close goes out; nothing new (broadcasts included) is taken, or a
		// busy endpoint would keep the backlog from ever draining and every close would wait the timeout.
		this.outbound.refuseNew(SendFailure.CLOSED);
		CompletableFuture<Void> flushed = this.outbound.whenDrained();
		ScheduledFuture<?> timeoutTimer = this.registry.scheduler().schedule(() -> flushed.complete(null),
				this.registry.scheduler().getClock().instant().plus(timeout));
		flushed.whenComplete((ignored, failure) -> timeoutTimer.cancel(false));
		return flushed.thenRunAsync(() -> {
			try {
				transport().close(status);
			}
			catch (IOException | RuntimeException ex) {
				logger.debug("Closing session " + getId() + " failed", ex);
			}
		}, this.registry.pool());
	}

	/** Ends the session now, without waiting for anything: the peer is dead or too slow. */
	void terminate(CloseCause cause, CloseStatus wireStatus) {
		serverEnds(cause);
		this.heartbeat.stop();
		this.registry.pool().execute(() -> {
			try {
				NativeSessions.terminate(transport(), wireStatus);
			}
			catch (IOException | RuntimeException ex) {
				logger.debug("Terminating session " + getId() + " failed", ex);
			}
		});
	}

	/** Closes at once with a policy code (1008, 1009): the client broke a limit. */
	private void closeForViolation(CloseCause cause, CloseStatus status) {
		serverEnds(cause);
		this.registry.pool().execute(() -> {
			try {
				transport().close(status);
			}
			catch (IOException | RuntimeException ex) {
				logger.debug("Closing session " + getId() + " failed", ex);
			}
		});
	}

	/**
	 * Looks at an inbound message before the application does.
	 * @param connection the connection it came over
	 * @return what goes on to the application's handler (a resuming session's data unescaped), or null
	 */
	@Nullable WebSocketMessage<?> inbound(WebSocketSession connection, WebSocketMessage<?> message) {
		if (this.resume != null && connection != transport()) {
			// A connection the session was resumed away from: its client has moved on.
			return null;
		}
		if (this.resume != null && !(message instanceof PongMessage)) {
			// A client sends nothing after R before it reads S: whatever it sends now says it has the new token.
			String confirmed = this.resume.confirmed();
			if (confirmed != null) {
				this.registry.resumption().confirmed(this, confirmed);
			}
		}
		return inbound(message) ? resumeInbound(connection, message) : null;
	}

	/** Looks at an inbound message before the application does; whether it goes on to the handler. */
	boolean inbound(WebSocketMessage<?> message) {
		if (this.closed || serverEnded()) {
			// Closed, or being closed for a reason: what the client sent after that is not the
			// application's concern.
			return false;
		}
		this.heartbeat.frameReceived();
		if (message instanceof PongMessage) {
			this.heartbeat.pongReceived();
			return true;
		}
		// Every text and binary message is counted, heartbeat pings too: a flood of them shows in the meter.
		this.statistics.messagesReceived.increment();
		ServerSettings settings = this.registry.settings();
		long length = (settings.maxMessageSize() > 0) ? OutboundMessage.payloadLength(message) : 0;
		if (length > settings.maxMessageSize()) {
			closeForViolation(CloseCause.TOO_BIG, new CloseStatus(1009,
					"message of " + length + " bytes over the limit of " + settings.maxMessageSize()));
			return false;
		}
		// Application-level pings count toward the rate like any message: answering costs a write, and
		// a peer that pings as fast as it can must meet the same limit as one that talks.
		if (!withinInboundRate()) {
			closeForViolation(CloseCause.RATE_LIMITED,
					new CloseStatus(1008, "more than " + settings.inboundMessagesPerSecond() + " messages per second"));
			return false;
		}
		if (isAppHeartbeatPing(message, settings)) {
			// At most one answer waits, ahead of queued data, and its bytes count toward the buffer
			// limit: a peer that pings and never reads meets the slow-consumer policy like any other.
			this.outbound.offerHeartbeat(OutboundMessage.unobservedText(settings.appHeartbeat().pongText()));
			return false;
		}
		return true;
	}

	// The resume protocol's part of an inbound message; one that breaks the protocol closes with 1002.
	private @Nullable WebSocketMessage<?> resumeInbound(WebSocketSession connection, WebSocketMessage<?> message) {
		if (this.resumeReceiver == null) {
			return message;
		}
		try {
			// Decided again where the message is counted: a resume may have replaced the connection since.
			return this.resumeReceiver.received(connection, message);
		}
		catch (ResumeProtocolException ex) {
			logger.debug("Session " + getId() + " broke the resume protocol: " + ex.getMessage());
			closeForViolation(CloseCause.ERROR, CloseStatus.PROTOCOL_ERROR);
			return null;
		}
	}

	private boolean withinInboundRate() {
		if (this.inboundRate == null) {
			return true;
		}
		synchronized (this.inboundRate) {
			return this.inboundRate.tryAcquire();
		}
	}

	private static boolean isAppHeartbeatPing(WebSocketMessage<?> message, ServerSettings settings) {
		return message instanceof TextMessage text && settings.appHeartbeat().enabled()
				&& settings.appHeartbeat().pingText().equals(text.getPayload());
	}

	/**
	 * Runs the application's handling of a message this session sent; afterwards the session stops
	 * being read for a moment if that filled a healthy session's send buffer ({@link InboundBackPressure}).
	 */
	void handleInbound(WebSocketMessage<?> message, InboundBackPressure.Handling handling) throws Exception {
		InboundGate gate = this.inboundGate;
		if (gate != null && !gate.enter()) {
			// Being handed over, and released without it: the client sends it again where the session goes.
			return;
		}
		try {
			if (this.resumeReceiver != null) {
				this.resumeReceiver.handling(message);
			}
			try {
				if (this.registry.backPressure().handle(this.reader, handling)) {
					this.statistics.inboundPauses.increment();
				}
			}
			finally {
				if (this.resumeReceiver != null) {
					this.resumeReceiver.handled(message);
				}
			}
		}
		finally {
			if (gate != null) {
				gate.exit();
			}
		}
	}

	/** The session closed, whoever closed it. */
	CloseCause closed(CloseStatus status) {
		this.closed = true;
		this.heartbeat.stop();
		// A session handed over is delivered by the instance that takes it: its messages did not fail.
		this.outbound.close(isHandedOver() ? SendFailure.HANDED_OVER : SendFailure.CLOSED);
		Ending ending = this.ending.get();
		CloseCause server = (ending != null) ? ending.server() : null;
		CloseStatus application = (ending != null) ? ending.application() : null;
		if (server != null && application != null) {
			// The server cut a session the application was already closing: the code the container
			// reports is the server's doing, the cause is the application's close.
			return CloseCause.fromCode(application.getCode(), null);
		}
		return CloseCause.fromCode(status.getCode(), server);
	}

	/** The application closes the session: that is the cause, unless one was decided before. */
	private void applicationEnds(CloseStatus status) {
		this.ending.compareAndSet(null, new Ending(status, null));
	}

	/** The server ends the session for {@code cause}, unless it already has; an earlier cause stays counted. */
	private void serverEnds(CloseCause cause) {
		Ending current = this.ending.get();
		while (current == null || current.server() == null) {
			Ending next = new Ending((current != null) ? current.application() : null, cause);
			if (this.ending.compareAndSet(current, next)) {
				return;
			}
			current = this.ending.get();
		}
	}

	/** Whether the server has ended (or is ending) this session, for whatever cause. */
	private boolean serverEnded() {
		Ending current = this.ending.get();
		return current != null && current.server() != null;
	}

	/**
	 * How a session came to end; immutable, replaced as a whole.
	 * @param application the application's close, when it came before any cause of the server's
	 * @param server why the server ended the session; counted unless the application's close came first
	 */
	private record Ending(@Nullable CloseStatus application, @Nullable CloseCause server) {
	}

	/** Called by the registry's sweep: a write is stuck longer than the send time limit. */
	void checkStalled(Instant now) {
		Optional<Instant> writingSince = this.outbound.writingSince();
		if (writingSince.isEmpty()
				|| Duration.between(writingSince.get(), now).compareTo(this.registry.settings().sendTimeLimit()) <= 0) {
			return;
		}
		if (this.registry.settings().overflow() == ServerOverflowPolicy.TERMINATE) {
			overflowed();
		}
		else if (this.outbound.discardQueued(SendFailure.STALLED) > 0) {
			this.registry.publish(new SessionEvent.Overflow(getId(), this.endpoint, this.registry.settings().overflow(),
					now));
		}
	}

	private void overflowed() {
		if (isDetached()) {
			this.registry.endDetached(this, ResumeFrame.RefusalReason.OVERFLOW, null);
			return;
		}
		if (serverEnded()) {
			return;
		}
		ServerSettings settings = this.registry.settings();
		this.registry.publish(new SessionEvent.Overflow(getId(), this.endpoint, settings.overflow(),
				this.registry.scheduler().getClock().instant()));
		terminate(CloseCause.SLOW_CONSUMER,
				new CloseStatus(settings.terminateCloseCode(), "send buffer full: not reading fast enough"));
	}

	private void undeliveredMessage(SendFailure reason) {
		Instant now = this.registry.scheduler().getClock().instant();
		this.registry.publish(new SessionEvent.Undelivered(this.endpoint, reason, now));
		if (reason == SendFailure.BUFFER_FULL || reason == SendFailure.DROPPED_OLDEST) {
			if (this.registry.settings().overflow() != ServerOverflowPolicy.TERMINATE) {
				this.registry.publish(new SessionEvent.Overflow(getId(), this.endpoint,
						this.registry.settings().overflow(), now));
			}
		}
	}

	/**
	 * Tomcat's ping is a blocking write (bounded by the blocking send timeout set in opened()), so
	 * {@link PingSender} calls this on the I/O pool, never on the scheduler thread.
	 */
	private void pingNow() {
		if (!this.pingInFlight.compareAndSet(false, true)) {
			// The previous ping is still stuck in the socket: the heartbeat counts this one as missed.
			return;
		}
		try {
			transport().sendMessage(new PingMessage());
		}
		catch (IOException | RuntimeException ex) {
			logger.debug("Ping to session " + getId() + " failed", ex);
		}
		finally {
			this.pingInFlight.set(false);
		}
	}

	@Override
	public String toString() {
		return "ManagedSession[" + getId() + " on " + this.endpoint + "]";
	}

}
