package io.resilientws.client;

import java.io.ByteArrayOutputStream;
import java.net.ProtocolException;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;

import io.resilientws.heartbeat.Heartbeat;
import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.heartbeat.HeartbeatSweep;
import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import io.resilientws.send.SendFailure;
import io.resilientws.send.SendResult;
import io.resilientws.send.SerialExecutor;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;
import org.springframework.util.backoff.BackOffExecution;

/**
 * A named client WebSocket connection that notices when it is dead and comes back by itself when the
 * loss was not intended.
 * <p>
 * It mirrors the browser {@code WebSocket}: {@link #state()}/{@link #readyState()}, {@link #send},
 * {@link #bufferedAmount()}, {@link #protocol()}, {@link #close(int, String)} and the
 * {@link ConnectionHandler} callbacks; and adds a heartbeat that declares a silent peer dead, a
 * reconnect policy with exponential backoff and jitter, and a send buffer bounded in bytes.
 * <p>
 * Threading: one lock guards the state below; no callback, future or event is run under it. Timers
 * (heartbeat, reconnect, close timeout) run on the scheduler shared by all connections, transport
 * callbacks on the shared I/O pool, and the handler's callbacks one at a time on a per-connection
 * serial queue over that pool. Every transport callback carries the number of the attempt it belongs
 * to; callbacks of an older attempt are ignored, which makes failure handling idempotent.
 */
public final class ManagedConnection {

	private static final Log logger = LogFactory.getLog(ManagedConnection.class);

	private static final int GOING_AWAY = 1001;

	private static final int TRY_AGAIN_LATER = 1013;

	private static final int PROTOCOL_ERROR = 1002;

	private final String name;

	private final ConnectionSettings settings;

	private final ConnectionHandler handler;

	private final TaskScheduler scheduler;

	private final Clock clock;

	private final WebSocketConnector connector;

	private final Executor ioPool;

	private final Consumer<ConnectionEvent> events;

	/** The handler's callbacks, delivery outcomes and events of this connection, in order. */
	private final SerialExecutor callbacks;

	private final OutboundQueue outbound;

	/** Traffic totals, counted outside the lock. */
	private final ConnectionStatistics statistics = new ConnectionStatistics();

	private final Object lock = new Object();

	// Everything below is guarded by lock.

	private ConnectionState state = ConnectionState.CLOSED;

	/** Numbers the connect attempts; transport callbacks of other attempts are stale. */
	private int generation;

	/** The open (or closing) transport of the current attempt. */
	private @Nullable WebSocket webSocket;

	private @Nullable Heartbeat heartbeat;

	/** Drives the heartbeats of every connection of the registry. */
	private final HeartbeatSweep heartbeats;

	private BackOffExecution backOff;

	/** The number of the current (or next) attempt since the last stable open; 0 before the first. */
	private int attempt;

	private @Nullable Instant nextAttemptAt;

	/** The reconnect timer while waiting, the close timeout while closing. */
	private @Nullable ScheduledFuture<?> timer;

	private @Nullable Instant openedAt;

	private String protocol = "";

	private @Nullable CloseEvent lastClose;

	/** Set by a local close: whatever happens next, this connection does not reconnect until started again. */
	private boolean closeRequested;

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

	ManagedConnection(String name, ConnectionSettings settings, ConnectionHandler handler, TaskScheduler scheduler,
			HeartbeatSweep heartbeats, WebSocketConnector connector, Executor ioPool,
			Consumer<ConnectionEvent> events) {
		this.name = name;
		this.settings = settings;
		this.handler = handler;
		this.scheduler = scheduler;
		this.heartbeats = heartbeats;
		this.clock = scheduler.getClock();
		this.connector = connector;
		this.ioPool = ioPool;
		this.events = events;
		this.callbacks = new SerialExecutor(ioPool);
		this.outbound = new OutboundQueue(settings.send(), scheduler, this.callbacks, new OutboundQueue.Observer() {
			@Override
			public void undelivered(SendFailure reason) {
				ManagedConnection.this.statistics.countUndelivered(reason);
			}

			@Override
			public void overflowClose() {
				sendBufferOverflowed();
			}

			@Override
			public void written(OutboundMessage message) {
				if (!isHeartbeatPing(message)) {
					ManagedConnection.this.statistics.countSent(message.size());
				}
			}
		});
		this.backOff = settings.reconnect().startBackOff();
	}

	// ---- the browser API, plus resilience ----

	public String name() {
		return this.name;
	}

	public ConnectionSettings settings() {
		return this.settings;
	}

	public ConnectionState state() {
		synchronized (this.lock) {
			return this.state;
		}
	}

	/** The browser's {@code readyState}: 0 connecting (or waiting to reconnect), 1 open, 2 closing, 3 closed. */
	public int readyState() {
		return state().readyState();
	}

	/** The subprotocol the server chose, or "" (as in the browser). */
	public String protocol() {
		synchronized (this.lock) {
			return this.protocol;
		}
	}

	/** The negotiated extensions: always "", the JDK client offers none. */
	public String extensions() {
		return "";
	}

	/** Bytes accepted by {@link #send} but not yet written to the network. */
	public long bufferedAmount() {
		return this.outbound.bufferedBytes();
	}

	/** The number of the current or scheduled connect attempt since the last stable open. */
	public int attempt() {
		synchronized (this.lock) {
			return this.attempt;
		}
	}

	/** When the next reconnect attempt starts, while waiting for it. */
	public Optional<Instant> nextAttemptAt() {
		synchronized (this.lock) {
			return Optional.ofNullable(this.nextAttemptAt);
		}
	}

	/** How the connection last closed or failed to open. */
	public Optional<CloseEvent> lastClose() {
		synchronized (this.lock) {
			return Optional.ofNullable(this.lastClose);
		}
	}

	/** Since when the connection is open. */
	public Optional<Instant> openSince() {
		synchronized (this.lock) {
			return Optional.ofNullable(this.openedAt);
		}
	}

	/**
	 * Since when the connection has been trying to open: since it was lost, or since {@link #start()}
	 * if it has not opened since. Empty while open, closing or closed.
	 */
	public Optional<Instant> downSince() {
		synchronized (this.lock) {
			return Optional.ofNullable(this.downSince);
		}
	}

	/** Messages and bytes sent and received, and messages not delivered, since the connection was created. */
	public ConnectionStatistics statistics() {
		return this.statistics;
	}

	/** The round trip of the latest answered heartbeat ping. */
	public Optional<Duration> lastHeartbeatRoundTrip() {
		synchronized (this.lock) {
			return Optional.ofNullable((this.heartbeat != null) ? this.heartbeat.lastRoundTrip() : null);
		}
	}

	/**
	 * Sends a text message. Never blocks, except under the BLOCK overflow policy, for at most
	 * {@code send.block-timeout}. The result says whether the message was accepted; its delivery future
	 * says whether it was written.
	 */
	public SendResult send(String text) {
		return send(OutboundMessage.text(text));
	}

	/** Sends a binary message (the buffer's remaining bytes, copied). See {@link #send(String)}. */
	public SendResult send(ByteBuffer data) {
		return send(OutboundMessage.binary(data));
	}

	private SendResult send(OutboundMessage message) {
		ConnectionState current = state();
		boolean held = current == ConnectionState.OPEN || (this.settings.queueWhileDisconnected()
				&& (current == ConnectionState.CONNECTING || current == ConnectionState.WAITING_TO_RECONNECT));
		if (!held) {
			SendFailure reason = (current == ConnectionState.CLOSED || current == ConnectionState.CLOSING)
					? SendFailure.CLOSED : SendFailure.NOT_OPEN;
			this.statistics.countUndelivered(reason);
			return SendResult.rejected(reason);
		}
		return this.outbound.offer(message);
	}

	/** Opens the connection; no-op unless closed. A closed connection may be started again. */
	public void start() {
		synchronized (this.lock) {
			if (this.state != ConnectionState.CLOSED) {
				return;
			}
			this.closeRequested = false;
			this.attempt = 0;
			this.backOff = this.settings.reconnect().startBackOff();
			this.outbound.reopen();
			this.downSince = this.clock.instant();
			this.lostOpen = false;
			this.reconnectAttempt = false;
			connect();
		}
	}

	/** Closes normally (1000) and does not reconnect. */
	public void close() {
		close(1000, "");
	}

	/**
	 * Closes with a close handshake and does not reconnect: messages already accepted are written
	 * first, then the close frame; after {@code close-timeout} without the peer's answer the connection
	 * is dropped. While connecting or waiting to reconnect, the connection simply stops.
	 * @param code 1000 or 3000-4999, as in the browser, or 1001 (going away)
	 * @param reason at most 123 bytes of UTF-8
	 */
	public void close(int code, String reason) {
		if (code != 1000 && code != GOING_AWAY && (code < 3000 || code > 4999)) {
			throw new IllegalArgumentException("Close code " + code + " is not allowed: use 1000, 1001 or 3000-4999");
		}
		if (reason.getBytes(StandardCharsets.UTF_8).length > 123) {
			throw new IllegalArgumentException("Close reason is longer than 123 bytes of UTF-8");
		}
		synchronized (this.lock) {
			this.closeRequested = true;
			switch (this.state) {
				case CLOSED, CLOSING -> {
				}
				case CONNECTING, WAITING_TO_RECONNECT -> {
					this.generation++;
					cancelTimer();
					closed(new CloseEvent(code, reason, false, CloseInitiator.LOCAL, false, 0, null));
				}
				case OPEN -> startClosingHandshake(code, reason);
			}
		}
	}

	/**
	 * Reconnects now: drops the current connection (if any) without waiting for a close handshake, or
	 * cuts short the wait for the next attempt.
	 */
	public void reconnect() {
		synchronized (this.lock) {
			if (this.state == ConnectionState.OPEN || this.state == ConnectionState.CLOSING) {
				this.downSince = this.clock.instant();
				this.lostOpen = true;
			}
			else if (this.downSince == null) {
				this.downSince = this.clock.instant();
			}
			this.reconnectAttempt = true;
			this.openedAt = null;
			if (this.webSocket != null) {
				this.webSocket.abort();
				this.webSocket = null;
			}
			stopHeartbeat();
			cancelTimer();
			this.closeRequested = false;
			this.outbound.reopen();
			this.outbound.detach(this.settings.queueWhileDisconnected() ? null : SendFailure.CONNECTION_LOST);
			connect();
		}
	}

	/** Closes with 1001 for an application that stops; no reconnect follows. */
	CompletableFuture<Void> shutdown() {
		CompletableFuture<Void> closedFuture = new CompletableFuture<>();
		synchronized (this.lock) {
			if (this.state == ConnectionState.CLOSED) {
				return CompletableFuture.completedFuture(null);
			}
			this.shutdownWaiters.add(closedFuture);
		}
		close(GOING_AWAY, "application stopping");
		return closedFuture;
	}

	// ---- the state machine (all called under lock) ----

	private void connect() {
		int attemptGeneration = ++this.generation;
		this.attempt++;
		this.nextAttemptAt = null;
		this.timer = null;
		this.protocol = "";
		moveTo(ConnectionState.CONNECTING);
		Transport transport = new Transport(attemptGeneration);
		CompletableFuture<WebSocket> opened;
		try {
			opened = this.connector.connect(this.settings, transport);
		}
		catch (RuntimeException ex) {
			opened = CompletableFuture.failedFuture(ex);
		}
		// Async: the outcome is handled on the pool, never inside this locked block.
		opened.whenCompleteAsync((ws, failure) -> connectCompleted(transport, ws, failure), this.ioPool);
	}

	private void connectCompleted(Transport transport, @Nullable WebSocket ws, @Nullable Throwable failure) {
		synchronized (this.lock) {
			if (transport.generation != this.generation || this.state != ConnectionState.CONNECTING) {
				if (ws != null) {
					ws.abort();
				}
				return;
			}
			if (failure != null || ws == null) {
				Throwable cause = (failure != null) ? failure : new IllegalStateException("no WebSocket");
				if (this.reconnectAttempt) {
					publish(new ConnectionEvent.ReconnectAttempted(this.name, this.clock.instant(), this.attempt, false,
							null));
				}
				dispatch((h) -> h.onError(this, cause));
				lost(CloseEvent.ABNORMAL_CLOSURE, HandshakeFailures.describe(cause), CloseInitiator.ABNORMAL, false,
						HandshakeFailures.retryAfter(cause, this.clock.instant()).orElse(null));
				return;
			}
			this.webSocket = ws;
			this.openedAt = this.clock.instant();
			this.protocol = (ws.getSubprotocol() != null) ? ws.getSubprotocol() : "";
			moveTo(ConnectionState.OPEN);
			if (this.reconnectAttempt) {
				Duration downtime = (this.lostOpen && this.downSince != null)
						? Duration.between(this.downSince, this.openedAt) : null;
				publish(new ConnectionEvent.ReconnectAttempted(this.name, this.openedAt, this.attempt, true, downtime));
			}
			this.downSince = null;
			this.lostOpen = false;
			log("open to " + this.settings.redactedUrl() + " (attempt " + this.attempt + ")");
			Heartbeat beat = new Heartbeat(this.settings.heartbeat(), this.heartbeats, new HeartbeatPeer(transport));
			this.heartbeat = beat;
			transport.heartbeat = beat;
			beat.start();
			dispatch((h) -> h.onOpen(this));
			this.outbound.attach((message) -> message.isText() ? ws.sendText(message.text(), true)
					: ws.sendBinary(message.binary(), true));
		}
	}

	/** The connection is gone without a local close: decide between reconnecting and staying closed. */
	private void lost(int code, String reason, CloseInitiator initiator, boolean wasClean,
			@Nullable Duration retryAfter) {
		boolean wasOpen = this.state == ConnectionState.OPEN;
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
		if (this.openedAt != null
				&& Duration.between(this.openedAt, now).compareTo(this.settings.reconnect().stableAfter()) >= 0) {
			this.backOff = this.settings.reconnect().startBackOff();
			this.attempt = 0;
		}
		this.openedAt = null;
		ReconnectSettings reconnect = this.settings.reconnect();
		long delayMillis = (reconnect.enabled() && !this.closeRequested
				&& reconnect.policy().shouldReconnect(initiator, code)) ? this.backOff.nextBackOff()
						: BackOffExecution.STOP;
		if (delayMillis == BackOffExecution.STOP) {
			closed(new CloseEvent(code, reason, wasClean, initiator, false, 0, null));
			return;
		}
		Duration delay = Duration.ofMillis(delayMillis);
		if (code == TRY_AGAIN_LATER && delay.compareTo(reconnect.tryAgainLaterDelay()) < 0) {
			delay = reconnect.tryAgainLaterDelay();
		}
		if (retryAfter != null && delay.compareTo(retryAfter) < 0) {
			delay = retryAfter;
		}
		Instant at = now.plus(delay);
		this.nextAttemptAt = at;
		CloseEvent event = new CloseEvent(code, reason, wasClean, initiator, true, this.attempt + 1, at);
		this.lastClose = event;
		this.outbound.detach(this.settings.queueWhileDisconnected() ? null : SendFailure.CONNECTION_LOST);
		moveTo(ConnectionState.WAITING_TO_RECONNECT);
		int waitingGeneration = this.generation;
		this.timer = this.scheduler.schedule(() -> reconnectTimerFired(waitingGeneration), at);
		log("lost (" + code + " " + reason + "); attempt " + event.nextAttempt() + " in " + delay.toMillis() + " ms");
		dispatchClose(event, wasOpen);
	}

	/** Ends for good: no reconnect follows. */
	private void closed(CloseEvent event) {
		boolean wasOpen = this.state == ConnectionState.OPEN || this.state == ConnectionState.CLOSING;
		stopHeartbeat();
		cancelTimer();
		this.webSocket = null;
		this.openedAt = null;
		this.nextAttemptAt = null;
		this.downSince = null;
		this.lostOpen = false;
		this.lastClose = event;
		this.outbound.close(SendFailure.CLOSED);
		moveTo(ConnectionState.CLOSED);
		log("closed (" + event.code() + " " + event.reason() + ", " + event.initiator() + "); no reconnect");
		dispatchClose(event, wasOpen);
		List<CompletableFuture<Void>> waiters = new ArrayList<>(this.shutdownWaiters);
		this.shutdownWaiters.clear();
		waiters.forEach((waiter) -> this.callbacks.execute(() -> waiter.complete(null)));
	}

	private void reconnectTimerFired(int waitingGeneration) {
		synchronized (this.lock) {
			if (waitingGeneration == this.generation && this.state == ConnectionState.WAITING_TO_RECONNECT) {
				this.reconnectAttempt = true;
				connect();
			}
		}
	}

	private void startClosingHandshake(int code, String reason) {
		WebSocket ws = this.webSocket;
		this.closeCode = code;
		stopHeartbeat();
		moveTo(ConnectionState.CLOSING);
		int closingGeneration = this.generation;
		this.timer = this.scheduler.schedule(() -> closeTimedOut(closingGeneration),
				this.clock.instant().plus(this.settings.closeTimeout()));
		// Messages accepted before close() go out first, then the close frame.
		this.outbound.whenDrained().thenRun(() -> {
			synchronized (this.lock) {
				if (closingGeneration == this.generation && this.state == ConnectionState.CLOSING && ws != null) {
					ws.sendClose(code, reason).whenComplete((ignored, failure) -> {
						if (failure != null) {
							transportFailed(closingGeneration, failure);
						}
					});
				}
			}
		});
	}

	private void closeTimedOut(int closingGeneration) {
		synchronized (this.lock) {
			if (closingGeneration == this.generation && this.state == ConnectionState.CLOSING) {
				if (this.webSocket != null) {
					this.webSocket.abort();
				}
				closed(new CloseEvent(this.closeCode, "close handshake timed out after "
						+ this.settings.closeTimeout().toMillis() + " ms", false, CloseInitiator.LOCAL, false, 0, null));
			}
		}
	}

	private void sendBufferOverflowed() {
		synchronized (this.lock) {
			if (this.state == ConnectionState.OPEN && this.webSocket != null) {
				// Not a close the application asked for: the peer is too slow, so treat it as a loss.
				this.webSocket.abort();
				lost(CloseEvent.ABNORMAL_CLOSURE, "send buffer overflow (" + this.settings.send().bufferLimit()
						+ " bytes) with overflow policy CLOSE", CloseInitiator.ABNORMAL, false, null);
			}
		}
	}

	// ---- transport events ----

	private void remoteClosed(int attemptGeneration, int code, String reason) {
		synchronized (this.lock) {
			if (attemptGeneration != this.generation) {
				return;
			}
			// No close frame carries 1006: the JDK reports a connection that ended without one (the peer's
			// TCP close, a FIN) as onClose(1006, ""). That is a loss, not a clean close by the peer.
			boolean abnormal = code == CloseEvent.ABNORMAL_CLOSURE;
			String description = (abnormal && reason.isEmpty()) ? "connection closed without a close frame" : reason;
			if (this.state == ConnectionState.CLOSING) {
				closed(new CloseEvent(code, description, !abnormal, CloseInitiator.LOCAL, false, 0, null));
			}
			else if (this.state == ConnectionState.OPEN) {
				lost(code, description, abnormal ? CloseInitiator.ABNORMAL : CloseInitiator.REMOTE, !abnormal, null);
			}
		}
	}

	private void transportFailed(int attemptGeneration, Throwable failure) {
		synchronized (this.lock) {
			if (attemptGeneration != this.generation) {
				return;
			}
			String reason = HandshakeFailures.describeLoss(failure);
			if (this.state == ConnectionState.OPEN) {
				dispatch((h) -> h.onError(this, failure));
				if (failure instanceof ProtocolException) {
					// The peer broke the protocol (a bad frame, or a close code no server may send, such as
					// 1010) and the JDK has already closed with 1002. Like a 1002 from the peer, that would
					// only happen again: report 1002 so the policy decides, instead of a reconnecting 1006.
					Throwable cause = (failure.getCause() != null) ? failure.getCause() : failure;
					lost(PROTOCOL_ERROR, HandshakeFailures.describeProtocolError(cause), CloseInitiator.ABNORMAL, false,
							null);
				}
				else {
					lost(CloseEvent.ABNORMAL_CLOSURE, reason, CloseInitiator.ABNORMAL, false, null);
				}
			}
			else if (this.state == ConnectionState.CLOSING) {
				closed(new CloseEvent(CloseEvent.ABNORMAL_CLOSURE, reason, false, CloseInitiator.LOCAL, false, 0, null));
			}
		}
	}

	private void heartbeatFailed(int attemptGeneration, String description) {
		synchronized (this.lock) {
			if (attemptGeneration != this.generation || this.state != ConnectionState.OPEN) {
				return;
			}
			logger.warn("Connection '" + this.name + "' is dead: " + description);
			if (this.webSocket != null) {
				// Abort, do not close: a close handshake over a dead link would only wait for nothing.
				this.webSocket.abort();
			}
			lost(CloseEvent.ABNORMAL_CLOSURE, "heartbeat: " + description, CloseInitiator.ABNORMAL, false, null);
		}
	}

	// ---- helpers (under lock) ----

	private void moveTo(ConnectionState next) {
		ConnectionState previous = this.state;
		this.state = next;
		if (previous != next) {
			ConnectionEvent event = new ConnectionEvent.StateChanged(this.name, this.clock.instant(), previous, next,
					this.attempt);
			this.callbacks.execute(() -> this.events.accept(event));
		}
	}

	/**
	 * Logs in callback order, outside the lock. Control characters are escaped: messages carry text
	 * from the peer (its close reason) and from the transport, which must not start forged log lines.
	 */
	private void log(String message) {
		if (logger.isInfoEnabled()) {
			this.callbacks.execute(() -> logger.info(SafeText.escape("Connection '" + this.name + "' " + message)));
		}
	}

	private void dispatchClose(CloseEvent close, boolean wasOpen) {
		ConnectionEvent event = new ConnectionEvent.Closed(this.name, this.clock.instant(), close, wasOpen);
		this.callbacks.execute(() -> this.events.accept(event));
		dispatch((h) -> h.onClose(this, close));
	}

	/** Publishes in callback order, outside the lock (may be called under it). */
	private void publish(ConnectionEvent event) {
		this.callbacks.execute(() -> this.events.accept(event));
	}

	/** A TEXT-mode heartbeat ping: not an application message, so not counted. */
	private boolean isHeartbeatPing(OutboundMessage message) {
		HeartbeatSettings heartbeat = this.settings.heartbeat();
		return heartbeat.mode() == HeartbeatMode.TEXT && message.isText() && message.text().equals(heartbeat.pingText());
	}

	private void dispatch(Consumer<ConnectionHandler> callback) {
		this.callbacks.execute(() -> invokeHandler(callback));
	}

	private void invokeHandler(Consumer<ConnectionHandler> callback) {
		try {
			callback.accept(this.handler);
		}
		catch (RuntimeException ex) {
			logger.error("Handler of connection '" + this.name + "' failed", ex);
			try {
				this.handler.onError(this, ex);
			}
			catch (RuntimeException ignored) {
				// Already logged once; a failing onError must not stop the callbacks that follow.
			}
		}
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

	@Override
	public String toString() {
		return "ManagedConnection[" + this.name + ", " + state() + "]";
	}

	/** What the heartbeat of one attempt does with its transport. */
	private final class HeartbeatPeer implements Heartbeat.Peer {

		private final Transport transport;

		HeartbeatPeer(Transport transport) {
			this.transport = transport;
		}

		@Override
		public void sendPing() {
			WebSocket ws;
			synchronized (ManagedConnection.this.lock) {
				if (this.transport.generation != ManagedConnection.this.generation) {
					return;
				}
				ws = ManagedConnection.this.webSocket;
			}
			if (ws == null) {
				return;
			}
			if (ManagedConnection.this.settings.heartbeat().mode() == HeartbeatMode.TEXT) {
				ManagedConnection.this.outbound
					.offerFirst(OutboundMessage.unobservedText(ManagedConnection.this.settings.heartbeat().pingText()));
				return;
			}
			try {
				ws.sendPing(ByteBuffer.allocate(0));
			}
			catch (IllegalStateException previousPingStillPending) {
				// The last ping is not even written yet: the link is stuck, and the check will count it.
			}
		}

		@Override
		public void declareDead(String description) {
			heartbeatFailed(this.transport.generation, description);
		}

		@Override
		public void pingAnswered(Duration roundTrip) {
			synchronized (ManagedConnection.this.lock) {
				if (isCurrent()) {
					publish(new ConnectionEvent.HeartbeatAnswered(ManagedConnection.this.name,
							ManagedConnection.this.clock.instant(), roundTrip));
				}
			}
		}

		@Override
		public void pingMissed(int consecutive) {
			synchronized (ManagedConnection.this.lock) {
				if (isCurrent()) {
					publish(new ConnectionEvent.HeartbeatMissed(ManagedConnection.this.name,
							ManagedConnection.this.clock.instant(), consecutive,
							ManagedConnection.this.settings.heartbeat().maxMissed()));
				}
			}
		}

		// Under lock: a late answer to the heartbeat of an earlier attempt says nothing about this one.
		private boolean isCurrent() {
			return this.transport.generation == ManagedConnection.this.generation
					&& ManagedConnection.this.state == ConnectionState.OPEN;
		}

	}

	/**
	 * The JDK listener of one connect attempt. Assembles fragmented messages and asks for the next
	 * message only after the handler has taken the current one (back-pressure onto the socket).
	 */
	private final class Transport implements WebSocket.Listener {

		private final int generation;

		private volatile @Nullable Heartbeat heartbeat;

		private final StringBuilder text = new StringBuilder();

		private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

		Transport(int generation) {
			this.generation = generation;
		}

		@Override
		public void onOpen(WebSocket webSocket) {
			webSocket.request(1);
		}

		@Override
		public @Nullable CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
			frameReceived();
			this.text.append(data);
			if (!last) {
				webSocket.request(1);
				return null;
			}
			String message = this.text.toString();
			this.text.setLength(0);
			var heartbeatSettings = ManagedConnection.this.settings.heartbeat();
			if (heartbeatSettings.mode() == HeartbeatMode.TEXT && message.equals(heartbeatSettings.pongText())) {
				pongReceived();
				webSocket.request(1);
				return null;
			}
			ManagedConnection.this.statistics.countReceived(OutboundMessage.utf8Length(message));
			deliver(webSocket, (h) -> h.onText(ManagedConnection.this, message));
			return null;
		}

		@Override
		public @Nullable CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
			frameReceived();
			byte[] chunk = new byte[data.remaining()];
			data.get(chunk);
			this.binary.writeBytes(chunk);
			if (!last) {
				webSocket.request(1);
				return null;
			}
			ByteBuffer message = ByteBuffer.wrap(this.binary.toByteArray()).asReadOnlyBuffer();
			this.binary.reset();
			ManagedConnection.this.statistics.countReceived(message.remaining());
			deliver(webSocket, (h) -> h.onBinary(ManagedConnection.this, message));
			return null;
		}

		@Override
		public @Nullable CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
			frameReceived();
			webSocket.request(1);
			return null;
		}

		@Override
		public @Nullable CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
			if (ManagedConnection.this.settings.heartbeat().mode() == HeartbeatMode.FRAME) {
				pongReceived();
			}
			else {
				frameReceived();
			}
			webSocket.request(1);
			return null;
		}

		@Override
		public @Nullable CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
			remoteClosed(this.generation, statusCode, reason);
			return null;
		}

		@Override
		public void onError(WebSocket webSocket, Throwable error) {
			transportFailed(this.generation, error);
		}

		private void deliver(WebSocket webSocket, Consumer<ConnectionHandler> callback) {
			ManagedConnection.this.callbacks.execute(() -> {
				try {
					invokeHandler(callback);
				}
				finally {
					webSocket.request(1);
				}
			});
		}

		private void frameReceived() {
			Heartbeat beat = this.heartbeat;
			if (beat != null) {
				beat.frameReceived();
			}
		}

		private void pongReceived() {
			Heartbeat beat = this.heartbeat;
			if (beat != null) {
				beat.pongReceived();
			}
		}

	}

}
