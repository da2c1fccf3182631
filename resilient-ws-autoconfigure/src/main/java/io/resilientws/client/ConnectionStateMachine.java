package io.resilientws.client;

import java.net.ProtocolException;
import java.net.http.WebSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;

import io.resilientws.AfterUnlock;
import io.resilientws.heartbeat.Heartbeat;
import io.resilientws.heartbeat.HeartbeatSweep;
import io.resilientws.send.OutboundQueue;
import io.resilientws.send.SendFailure;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;

/**
 * The states of one {@link ManagedConnection} and the transitions between them, behind one lock.
 * <p>
 * Every transition decides under the lock and acts after it: transport I/O, failing queued messages
 * and starting a connect are collected in an {@link AfterUnlock} and run once the lock is released;
 * handler callbacks, events and log lines are only enqueued under it (on the connection's serial
 * queue, in transition order) and run on the pool. Every transport callback carries the number of
 * the attempt it belongs to; callbacks of an older attempt are ignored, which makes failure handling
 * idempotent.
 * <p>
 * Longer than our usual 500 lines on purpose: every transition of the connection is here, under its
 * one lock, so that the lock discipline can be checked in one file. What needs no lock lives apart:
 * {@link ReconnectPlanner}, {@link TransportListener}, {@link CallbackDispatcher}, {@link HeartbeatLink}.
 */
final class ConnectionStateMachine {

	private static final Log logger = LogFactory.getLog(ManagedConnection.class);

	private static final int GOING_AWAY = 1001;

	private static final int PROTOCOL_ERROR = 1002;

	private static final int MESSAGE_TOO_BIG = 1009;

	private final ManagedConnection connection;

	private final String name;

	private final ConnectionSettings settings;

	private final TaskScheduler scheduler;

	private final Clock clock;

	private final Connector connector;

	private final Executor ioPool;

	private final CallbackDispatcher callbacks;

	private final OutboundQueue outbound;

	private final ConnectionStatistics statistics;

	/** Drives the heartbeats of every connection of the registry. */
	private final HeartbeatSweep heartbeats;

	/** With {@code resume.enabled}, the resume protocol's part (it shares this lock); null otherwise. */
	private final @Nullable ClientResume resume;

	private final Object lock = new Object();

	// Everything below is guarded by lock.

	private ConnectionState state = ConnectionState.CLOSED;

	/** Numbers the connect attempts; transport callbacks of other attempts are stale. */
	private int generation;

	/** The transport of the current attempt: open, closing, or (with resume) in its opening exchange. */
	private @Nullable WebSocket webSocket;

	/** The listener of the current attempt's transport, once its handshake succeeded. */
	private @Nullable TransportListener listener;

	private @Nullable Heartbeat heartbeat;

	private final ReconnectPlanner planner;

	private @Nullable Instant nextAttemptAt;

	/** The reconnect timer while waiting, the close timeout while closing. */
	private @Nullable ScheduledFuture<?> timer;

	private @Nullable Instant openedAt;

	private String protocol = "";

	private @Nullable CloseEvent lastClose;

	/** Set by a local close: whatever happens next, this connection does not reconnect until started again. */
	private boolean closeRequested;

	/** Set by {@link #shutdown}: the application stops, and nothing may open this connection again. */
	private boolean stopping;

	/** The code of the local close under way. */
	private int closeCode;

	/** Since when the connection is wanted but not open (since start(), or since it was lost); null otherwise. */
	private @Nullable Instant downSince;

	/** Whether downSince is the loss of an open connection (and not a start that has not opened yet). */
	private boolean lostOpen;

	/** Whether the current attempt is a reconnect (scheduled, or asked for), not the first after start(). */
	private boolean reconnectAttempt;

	/** Completed when the connection reaches CLOSED, for an application waiting to stop. */
	private final List<CompletableFuture<Void>> shutdownWaiters = new ArrayList<>();

	ConnectionStateMachine(ManagedConnection connection, TaskScheduler scheduler, HeartbeatSweep heartbeats,
			Connector connector, Executor ioPool, CallbackDispatcher callbacks, OutboundQueue outbound,
			ConnectionStatistics statistics) {
		this.connection = connection;
		this.name = connection.name();
		this.settings = connection.settings();
		this.scheduler = scheduler;
		this.heartbeats = heartbeats;
		this.clock = scheduler.getClock();
		this.connector = connector;
		this.ioPool = ioPool;
		this.callbacks = callbacks;
		this.outbound = outbound;
		this.statistics = statistics;
		// Nothing is accepted before start(): the queue refuses until the state machine opens it.
		this.outbound.refuseNew(SendFailure.CLOSED);
		this.planner = new ReconnectPlanner(this.settings.reconnect());
		this.resume = this.settings.resume().enabled()
				? new ClientResume(connection, scheduler, callbacks, outbound, statistics, new ResumeHost()) : null;
	}

	ConnectionSnapshot snapshot() {
		synchronized (this.lock) {
			return new ConnectionSnapshot(this.state, this.planner.attempt(), this.nextAttemptAt, this.lastClose,
					this.openedAt, this.downSince, this.protocol,
					(this.heartbeat != null) ? this.heartbeat.lastRoundTrip() : null);
		}
	}

	ConnectionState state() {
		synchronized (this.lock) {
			return this.state;
		}
	}

	boolean lockHeldByCurrentThread() {
		return Thread.holdsLock(this.lock);
	}

	/** See {@link ManagedConnection#start()}. */
	void start() {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (this.state != ConnectionState.CLOSED) {
				return;
			}
			this.closeRequested = false;
			this.stopping = false;
			this.planner.restart();
			this.downSince = this.clock.instant();
			this.lostOpen = false;
			this.reconnectAttempt = false;
			admitWhileDisconnected();
			connect(after);
		}
		after.run(this.lock);
	}

	/** See {@link ManagedConnection#close(int, String)}; the code and reason are already checked. */
	void close(int code, String reason) {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			this.closeRequested = true;
			switch (this.state) {
				case CLOSED, CLOSING -> {
				}
				case CONNECTING, WAITING_TO_RECONNECT -> {
					// The attempt under way, if any, is stale from now on: its outcome aborts its socket (and
					// one still in the resume protocol's opening exchange is aborted here).
					this.generation++;
					abortTransport(after);
					cancelTimer();
					closed(new CloseEvent(code, reason, false, CloseInitiator.LOCAL, false, 0, null), after);
				}
				case OPEN -> startClosingHandshake(code, reason, after);
			}
		}
		after.run(this.lock);
	}

	/** See {@link ManagedConnection#reconnect()}. */
	boolean reconnect() {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (this.stopping || this.state == ConnectionState.CLOSING) {
				return false;
			}
			if (this.state == ConnectionState.OPEN) {
				this.downSince = this.clock.instant();
				this.lostOpen = true;
			}
			else if (this.downSince == null) {
				this.downSince = this.clock.instant();
			}
			if (this.state == ConnectionState.CLOSED) {
				this.planner.restart();
			}
			boolean wasOpen = this.state == ConnectionState.OPEN;
			this.reconnectAttempt = true;
			this.openedAt = null;
			abortTransport(after);
			if (this.resume != null) {
				this.resume.transportLost(CloseEvent.ABNORMAL_CLOSURE);
			}
			stopHeartbeat();
			cancelTimer();
			this.closeRequested = false;
			admitWhileDisconnected();
			after.add(this.outbound.detachLater(holdWhileDisconnected() ? null : SendFailure.CONNECTION_LOST));
			if (wasOpen) {
				// Dropping an open connection is a close like any other: 1006 (no close frame), local,
				// counted and reported. The next attempt starts now: attempt + 1, as connect() counts it.
				CloseEvent close = new CloseEvent(CloseEvent.ABNORMAL_CLOSURE, "reconnect requested", false,
						CloseInitiator.LOCAL, true, this.planner.attempt() + 1, this.clock.instant());
				this.lastClose = close;
				this.callbacks.log("dropped for a requested reconnect");
				dispatchClose(close, true);
			}
			connect(after);
		}
		after.run(this.lock);
		return true;
	}

	/** Closes with 1001 for an application that stops; no reconnect follows, and none can be asked for. */
	CompletableFuture<Void> shutdown() {
		CompletableFuture<Void> closedFuture = new CompletableFuture<>();
		synchronized (this.lock) {
			this.stopping = true;
			if (this.state == ConnectionState.CLOSED) {
				return CompletableFuture.completedFuture(null);
			}
			this.shutdownWaiters.add(closedFuture);
		}
		close(GOING_AWAY, "application stopping");
		return closedFuture;
	}

	// ---- the state machine (all called under lock) ----

	private void connect(AfterUnlock after) {
		int attemptGeneration = ++this.generation;
		this.planner.beginAttempt();
		this.nextAttemptAt = null;
		this.timer = null;
		this.protocol = "";
		moveTo(ConnectionState.CONNECTING);
		TransportListener listener = new TransportListener(attemptGeneration, this.settings, this.connection, this.callbacks,
				this.statistics, new TransportEvents(), this.resume);
		after.add(() -> {
			CompletableFuture<WebSocket> opened;
			try {
				opened = this.connector.connect(this.settings, listener);
			}
			catch (RuntimeException ex) {
				opened = CompletableFuture.failedFuture(ex);
			}
			opened.whenCompleteAsync((ws, failure) -> connectCompleted(listener, ws, failure), this.ioPool);
		});
	}

	private void connectCompleted(TransportListener listener, @Nullable WebSocket ws, @Nullable Throwable failure) {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (listener.generation() != this.generation || this.state != ConnectionState.CONNECTING) {
				if (ws != null) {
					after.add(ws::abort);
				}
			}
			else if (failure != null || ws == null) {
				Throwable cause = (failure != null) ? failure : new IllegalStateException("no WebSocket");
				if (this.reconnectAttempt) {
					publish(new ConnectionEvent.ReconnectAttempted(this.name, this.clock.instant(),
							this.planner.attempt(), false, null));
				}
				this.callbacks.handler((h) -> h.onError(this.connection, cause));
				lost(CloseEvent.ABNORMAL_CLOSURE, HandshakeFailures.describe(cause), CloseInitiator.ABNORMAL, false,
						HandshakeFailures.retryAfter(cause, this.clock.instant()).orElse(null), after);
			}
			else {
				opened(listener, ws, after);
			}
		}
		after.run(this.lock);
	}

	private void opened(TransportListener listener, WebSocket ws, AfterUnlock after) {
		this.webSocket = ws;
		this.listener = listener;
		this.protocol = (ws.getSubprotocol() != null) ? ws.getSubprotocol() : "";
		if (this.resume != null) {
			// Still CONNECTING: nothing is sent and nothing reaches the handler until the server's first
			// message says whether it speaks the resume protocol (ClientResume, then negotiated()).
			this.resume.transportOpened(listener.generation(), ws, after);
			return;
		}
		open(null);
		// After the lock: the held backlog is written, and only then is the first frame asked for, so
		// that onOpen (queued above) comes before every message of this attempt.
		after.add(() -> this.outbound.attach((message) -> message.isText() ? ws.sendText(message.text(), true)
				: ws.sendBinary(message.binary(), true)));
		after.add(() -> ws.request(1));
	}

	/** The current attempt's transport opens for messages; {@code outcome} is a resume's, if any. */
	private void open(@Nullable ResumeOutcome outcome) {
		TransportListener attempt = this.listener;
		this.openedAt = this.clock.instant();
		moveTo(ConnectionState.OPEN);
		if (this.reconnectAttempt) {
			Duration downtime = (this.lostOpen && this.downSince != null)
					? Duration.between(this.downSince, this.openedAt) : null;
			publish(new ConnectionEvent.ReconnectAttempted(this.name, this.openedAt, this.planner.attempt(), true,
					downtime));
		}
		this.downSince = null;
		this.lostOpen = false;
		this.callbacks.log("open to " + this.settings.redactedUrl() + " (attempt " + this.planner.attempt() + ")");
		Heartbeat beat = new Heartbeat(this.settings.heartbeat(), this.heartbeats, new HeartbeatLink(this, this.generation, this.settings.heartbeat(), this.outbound));
		this.heartbeat = beat;
		if (attempt != null) {
			attempt.heartbeat(beat);
		}
		beat.start();
		if (outcome != null) {
			publish(new ConnectionEvent.Resumed(this.name, this.openedAt, outcome));
			this.callbacks.handler((h) -> h.onResume(this.connection, outcome));
		}
		this.callbacks.handler((h) -> h.onOpen(this.connection));
		this.outbound.reopen();
	}

	/** The connection is gone without a local close: decide between reconnecting and staying closed. */
	private void lost(int code, String reason, CloseInitiator initiator, boolean wasClean,
			@Nullable Duration retryAfter, AfterUnlock after) {
		boolean wasOpen = this.state == ConnectionState.OPEN;
		if (this.resume != null) {
			this.resume.transportLost(code);
		}
		stopHeartbeat();
		this.webSocket = null;
		Instant now = this.clock.instant();
		if (wasOpen) {
			this.downSince = now;
			this.lostOpen = true;
		}
		else if (this.downSince == null) {
			this.downSince = now;
		}
		Duration uptime = (this.openedAt != null) ? Duration.between(this.openedAt, now) : null;
		this.openedAt = null;
		Duration delay = this.planner.afterLoss(code, initiator, this.closeRequested, uptime, retryAfter);
		if (delay == null) {
			closed(new CloseEvent(code, reason, wasClean, initiator, false, 0, null), after);
			return;
		}
		Instant at = now.plus(delay);
		this.nextAttemptAt = at;
		CloseEvent event = new CloseEvent(code, reason, wasClean, initiator, true, this.planner.attempt() + 1, at);
		this.lastClose = event;
		admitWhileDisconnected();
		after.add(this.outbound.detachLater(holdWhileDisconnected() ? null : SendFailure.CONNECTION_LOST));
		moveTo(ConnectionState.WAITING_TO_RECONNECT);
		int waitingGeneration = this.generation;
		this.timer = this.scheduler.schedule(() -> reconnectTimerFired(waitingGeneration), at);
		this.callbacks.log("lost (" + code + " " + reason + "); attempt " + event.nextAttempt() + " in "
				+ delay.toMillis() + " ms");
		dispatchClose(event, wasOpen);
	}

	/** Ends for good: no reconnect follows. */
	private void closed(CloseEvent event, AfterUnlock after) {
		boolean wasOpen = this.state == ConnectionState.OPEN || this.state == ConnectionState.CLOSING;
		if (this.resume != null) {
			// An intentional close (or the end of reconnecting) ends the session: nothing is kept.
			this.resume.closed();
		}
		stopHeartbeat();
		cancelTimer();
		this.webSocket = null;
		this.openedAt = null;
		this.nextAttemptAt = null;
		this.downSince = null;
		this.lostOpen = false;
		this.lastClose = event;
		after.add(this.outbound.closeLater(SendFailure.CLOSED));
		moveTo(ConnectionState.CLOSED);
		this.callbacks.log("closed (" + event.code() + " " + event.reason() + ", " + event.initiator()
				+ "); no reconnect");
		dispatchClose(event, wasOpen);
		List<CompletableFuture<Void>> waiters = new ArrayList<>(this.shutdownWaiters);
		this.shutdownWaiters.clear();
		waiters.forEach((waiter) -> this.callbacks.run(() -> waiter.complete(null)));
	}

	private void reconnectTimerFired(int waitingGeneration) {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (waitingGeneration == this.generation && this.state == ConnectionState.WAITING_TO_RECONNECT) {
				this.reconnectAttempt = true;
				connect(after);
			}
		}
		after.run(this.lock);
	}

	private void startClosingHandshake(int code, String reason, AfterUnlock after) {
		WebSocket ws = this.webSocket;
		this.closeCode = code;
		stopHeartbeat();
		// Messages accepted before close() still go out, then the close frame; nothing new is taken.
		this.outbound.refuseNew(SendFailure.CLOSED);
		moveTo(ConnectionState.CLOSING);
		int closingGeneration = this.generation;
		this.timer = this.scheduler.schedule(() -> closeTimedOut(closingGeneration),
				this.clock.instant().plus(this.settings.closeTimeout()));
		if (ws != null) {
			after.add(() -> this.outbound.whenDrained().thenRun(() -> sendCloseFrame(closingGeneration, ws, code,
					reason)));
		}
	}

	private void sendCloseFrame(int closingGeneration, WebSocket ws, int code, String reason) {
		synchronized (this.lock) {
			if (closingGeneration != this.generation || this.state != ConnectionState.CLOSING) {
				return;
			}
		}
		ws.sendClose(code, reason).whenComplete((ignored, failure) -> {
			if (failure != null) {
				transportFailed(closingGeneration, failure);
			}
		});
	}

	private void closeTimedOut(int closingGeneration) {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (closingGeneration == this.generation && this.state == ConnectionState.CLOSING) {
				abortTransport(after);
				closed(new CloseEvent(this.closeCode, "close handshake timed out after "
						+ this.settings.closeTimeout().toMillis() + " ms", false, CloseInitiator.LOCAL, false, 0, null),
						after);
			}
		}
		after.run(this.lock);
	}

	void sendBufferOverflowed() {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (this.state == ConnectionState.OPEN && this.webSocket != null) {
				// Not a close the application asked for: the peer is too slow, so treat it as a loss.
				abortTransport(after);
				lost(CloseEvent.ABNORMAL_CLOSURE, "send buffer overflow (" + this.settings.send().bufferLimit()
						+ " bytes) with overflow policy CLOSE", CloseInitiator.ABNORMAL, false, null, after);
			}
		}
		after.run(this.lock);
	}

	/**
	 * Resume mode: more was written and not acknowledged than {@code resume.buffer-limit}. The session
	 * can no longer be resumed; like a send-buffer overflow under CLOSE, the slow link is dropped and the
	 * next connection starts a new session.
	 */
	void resumeBufferOverflowed() {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (this.resume != null) {
				this.resume.bufferOverflowed();
			}
			if (this.state == ConnectionState.OPEN && this.webSocket != null) {
				abortTransport(after);
				lost(CloseEvent.ABNORMAL_CLOSURE, "resume buffer overflow (" + this.settings.resume().bufferLimit()
						+ " bytes unacknowledged)", CloseInitiator.ABNORMAL, false, null, after);
			}
		}
		after.run(this.lock);
	}

	// ---- transport events ----

	private void remoteClosed(int attemptGeneration, int code, String reason) {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (attemptGeneration != this.generation) {
				return;
			}
			// No close frame carries 1006: the transport reports a connection that ended without one (the
			// peer's TCP close, a FIN) as onClose(1006, ""). That is a loss, not a clean close by the peer.
			boolean abnormal = code == CloseEvent.ABNORMAL_CLOSURE;
			String description = (abnormal && reason.isEmpty()) ? "connection closed without a close frame" : reason;
			switch (this.state) {
				case CLOSING -> closed(new CloseEvent(code, description, !abnormal, CloseInitiator.LOCAL, false, 0,
						null), after);
				// During CONNECTING: the peer closed before the attempt's outcome was handled. Its code
				// counts; the attempt's late success is stale (and aborts its socket).
				case OPEN, CONNECTING -> {
					this.generation++;
					lost(code, description, abnormal ? CloseInitiator.ABNORMAL : CloseInitiator.REMOTE, !abnormal,
							null, after);
				}
				default -> {
				}
			}
		}
		after.run(this.lock);
	}

	private void transportFailed(int attemptGeneration, Throwable failure) {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (attemptGeneration != this.generation) {
				return;
			}
			String reason = HandshakeFailures.describeLoss(failure);
			if (this.state == ConnectionState.OPEN || this.state == ConnectionState.CONNECTING) {
				this.generation++;
				this.callbacks.handler((h) -> h.onError(this.connection, failure));
				if (failure instanceof ProtocolException) {
					// The peer broke the protocol (a bad frame, or a close code no server may send, such as
					// 1010) and the transport has already closed with 1002. Like a 1002 from the peer, that would
					// only happen again: report 1002 so the policy decides, instead of a reconnecting 1006.
					Throwable cause = (failure.getCause() != null) ? failure.getCause() : failure;
					lost(PROTOCOL_ERROR, HandshakeFailures.describeProtocolError(cause), CloseInitiator.ABNORMAL, false,
							null, after);
				}
				else {
					lost(CloseEvent.ABNORMAL_CLOSURE, reason, CloseInitiator.ABNORMAL, false, null, after);
				}
			}
			else if (this.state == ConnectionState.CLOSING) {
				closed(new CloseEvent(CloseEvent.ABNORMAL_CLOSURE, reason, false, CloseInitiator.LOCAL, false, 0, null),
						after);
			}
		}
		after.run(this.lock);
	}

	/**
	 * The server sent a message over {@code inbound.max-message-size}: that would only happen again, so
	 * the connection ends with 1009 and does not reconnect. The rest of the message is read and dropped
	 * until the server answers the close (the transport then closes the socket), and the link is
	 * dropped after close-timeout if it does not. (A single frame over the limit never gets here whole:
	 * the transport's decoder refuses it and has sent the 1009 itself.)
	 */
	private void messageTooBig(int attemptGeneration, WebSocket ws) {
		String reason = "message of more than " + this.settings.maxMessageSize() + " bytes (inbound.max-message-size)";
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (attemptGeneration != this.generation || this.state != ConnectionState.OPEN) {
				return;
			}
			this.generation++;
			this.scheduler.schedule(ws::abort, this.clock.instant().plus(this.settings.closeTimeout()));
			closed(new CloseEvent(MESSAGE_TOO_BIG, reason, false, CloseInitiator.LOCAL, false, 0, null), after);
		}
		after.run(this.lock);
		ws.sendClose(MESSAGE_TOO_BIG, "message too big").whenComplete((ignored, failure) -> {
			if (failure != null) {
				ws.abort();
			}
		});
	}

	void heartbeatFailed(int attemptGeneration, String description) {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			if (attemptGeneration != this.generation || this.state != ConnectionState.OPEN) {
				return;
			}
			this.callbacks.run(() -> logger.warn("Connection '" + this.name + "' is dead: " + description));
			// Abort, do not close: a close handshake over a dead link would only wait for nothing.
			abortTransport(after);
			lost(CloseEvent.ABNORMAL_CLOSURE, "heartbeat: " + description, CloseInitiator.ABNORMAL, false, null,
					after);
		}
		after.run(this.lock);
	}

	// ---- helpers (under lock) ----

	/** While not open, the queue holds messages for the next connection, or refuses them. */
	private void admitWhileDisconnected() {
		if (holdWhileDisconnected()) {
			this.outbound.reopen();
		}
		else {
			this.outbound.refuseNew(SendFailure.NOT_OPEN);
		}
	}

	/**
	 * Whether messages wait for the next connection: with {@code queue-while-disconnected}, and always
	 * with resume, whose session goes on across connections (what it cannot take fails as not recovered).
	 */
	private boolean holdWhileDisconnected() {
		return this.settings.queueWhileDisconnected() || this.resume != null;
	}

	private void abortTransport(AfterUnlock after) {
		WebSocket ws = this.webSocket;
		if (ws != null) {
			after.add(ws::abort);
			this.webSocket = null;
		}
	}

	private void moveTo(ConnectionState next) {
		ConnectionState previous = this.state;
		this.state = next;
		if (previous != next) {
			publish(new ConnectionEvent.StateChanged(this.name, this.clock.instant(), previous, next,
					this.planner.attempt()));
		}
	}

	private void dispatchClose(CloseEvent close, boolean wasOpen) {
		publish(new ConnectionEvent.Closed(this.name, this.clock.instant(), close, wasOpen));
		this.callbacks.handler((h) -> h.onClose(this.connection, close));
	}

	/** Publishes in callback order, after the lock (only enqueued here). */
	private void publish(ConnectionEvent event) {
		this.callbacks.event(event);
	}

	private void stopHeartbeat() {
		if (this.heartbeat != null) {
			this.heartbeat.stop();
		}
	}

	private void cancelTimer() {
		if (this.timer != null) {
			this.timer.cancel(false);
			this.timer = null;
		}
	}

	/** The listener's reports, into the state machine. */
	private final class TransportEvents implements TransportListener.Owner {

		@Override
		public void remoteClosed(int generation, int code, String reason) {
			ConnectionStateMachine.this.remoteClosed(generation, code, reason);
		}

		@Override
		public void transportFailed(int generation, Throwable failure) {
			ConnectionStateMachine.this.transportFailed(generation, failure);
		}

		@Override
		public void messageTooBig(int generation, WebSocket webSocket) {
			ConnectionStateMachine.this.messageTooBig(generation, webSocket);
		}

	}

	/** The resume protocol's view of this state machine: every call is made under this lock. */
	private final class ResumeHost implements ClientResume.Host {

		@Override
		public Object lock() {
			return ConnectionStateMachine.this.lock;
		}

		@Override
		public boolean isCurrent(int attemptGeneration) {
			return attemptGeneration == ConnectionStateMachine.this.generation
					&& ConnectionStateMachine.this.webSocket != null;
		}

		@Override
		public void negotiated(int attemptGeneration, ClientResume.Opening opening, AfterUnlock after) {
			if (!isCurrent(attemptGeneration) || ConnectionStateMachine.this.state != ConnectionState.CONNECTING) {
				return;
			}
			open(opening.outcome());
			if (opening.firstMessage() != null) {
				// Enqueued after onOpen: a plain server's first message reaches the handler after the open.
				opening.firstMessage().run();
			}
			after.add(opening.start());
		}

		@Override
		public void protocolViolated(int attemptGeneration, String description, AfterUnlock after) {
			WebSocket ws = ConnectionStateMachine.this.webSocket;
			if (!isCurrent(attemptGeneration) || ws == null) {
				return;
			}
			ConnectionStateMachine machine = ConnectionStateMachine.this;
			machine.generation++;
			machine.callbacks.handler((h) -> h.onError(machine.connection,
					new ProtocolException("resume protocol: " + description)));
			// As for a message too big: the link is dropped after close-timeout if the server does not answer.
			machine.scheduler.schedule(ws::abort, machine.clock.instant().plus(machine.settings.closeTimeout()));
			machine.lost(PROTOCOL_ERROR, "resume protocol error: " + description, CloseInitiator.ABNORMAL, false, null,
					after);
			after.add(() -> ws.sendClose(PROTOCOL_ERROR, "resume protocol error").whenComplete((ignored, failure) -> {
				if (failure != null) {
					ws.abort();
				}
			}));
		}

		@Override
		public void sessionAnswerTimedOut(int attemptGeneration, String description, AfterUnlock after) {
			ConnectionStateMachine machine = ConnectionStateMachine.this;
			if (!isCurrent(attemptGeneration) || machine.state != ConnectionState.CONNECTING) {
				return;
			}
			machine.generation++;
			if (machine.reconnectAttempt) {
				publish(new ConnectionEvent.ReconnectAttempted(machine.name, machine.clock.instant(),
						machine.planner.attempt(), false, null));
			}
			machine.abortTransport(after);
			machine.lost(CloseEvent.ABNORMAL_CLOSURE, description, CloseInitiator.ABNORMAL, false, null, after);
		}

	}

	// ---- the heartbeat's view (HeartbeatLink, on the scheduler thread) ----

	/** The open transport of attempt {@code attemptGeneration}, or null if that attempt is not the open one. */
	@Nullable WebSocket openTransport(int attemptGeneration) {
		synchronized (this.lock) {
			return isCurrentAndOpen(attemptGeneration) ? this.webSocket : null;
		}
	}

	void heartbeatAnswered(int attemptGeneration, Duration roundTrip) {
		synchronized (this.lock) {
			if (isCurrentAndOpen(attemptGeneration)) {
				publish(new ConnectionEvent.HeartbeatAnswered(this.name, this.clock.instant(), roundTrip));
			}
		}
	}

	void heartbeatMissed(int attemptGeneration, int consecutive) {
		synchronized (this.lock) {
			if (isCurrentAndOpen(attemptGeneration)) {
				publish(new ConnectionEvent.HeartbeatMissed(this.name, this.clock.instant(), consecutive,
						this.settings.heartbeat().maxMissed()));
			}
		}
	}

	// Under lock: a late answer to the heartbeat of an earlier attempt says nothing about this one.
	private boolean isCurrentAndOpen(int attemptGeneration) {
		return attemptGeneration == this.generation && this.state == ConnectionState.OPEN;
	}

}
