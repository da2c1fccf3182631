package io.resilientws.client;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

import io.resilientws.CloseCodes;
import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.heartbeat.HeartbeatSweep;
import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import io.resilientws.send.SendFailure;
import io.resilientws.send.SendResult;
import io.resilientws.send.SerialExecutor;

import org.springframework.scheduling.TaskScheduler;

/**
 * A named client WebSocket connection that notices when it is dead and comes back by itself when the
 * loss was not intended.
 * <p>
 * It mirrors the browser {@code WebSocket}: {@link #state()}/{@link #readyState()}, {@link #send},
 * {@link #bufferedAmount()}, {@link #protocol()}, {@link #close(int, String)} and the
 * {@link ConnectionHandler} callbacks; and adds a heartbeat that declares a silent peer dead, a
 * reconnect policy with exponential backoff and jitter, and a send buffer bounded in bytes.
 * <p>
 * Threading: one lock guards the connection's state; no handler callback, event, delivery outcome or
 * transport I/O runs under it (see {@link ConnectionStateMachine}). Timers (heartbeat, reconnect,
 * close timeout) run on the scheduler shared by all connections, transport callbacks on the shared
 * I/O pool, and the handler's callbacks one at a time on a per-connection serial queue over that pool.
 * <p>
 * The parts: {@link ConnectionStateMachine} holds the states and transitions,
 * {@link ReconnectPlanner} decides whether and when to come back, {@link TransportListener} reads
 * frames, {@link CallbackDispatcher} calls the handler, {@link OutboundQueue} writes.
 */
public final class ManagedConnection {

	private final String name;

	private final ConnectionSettings settings;

	private final OutboundQueue outbound;

	/** Traffic totals, counted outside the lock. */
	private final ConnectionStatistics statistics = new ConnectionStatistics();

	private final ConnectionStateMachine machine;

	ManagedConnection(String name, ConnectionSettings settings, ConnectionHandler handler, TaskScheduler scheduler,
			HeartbeatSweep heartbeats, Connector connector, Executor ioPool, Consumer<ConnectionEvent> events) {
		this.name = name;
		this.settings = settings;
		CallbackDispatcher callbacks = new CallbackDispatcher(this, handler, events, new SerialExecutor(ioPool));
		this.outbound = new OutboundQueue(settings.send(), scheduler, callbacks.executor(), new OutboundQueue.Observer() {
			@Override
			public void undelivered(SendFailure reason) {
				ManagedConnection.this.statistics.countUndelivered(reason);
			}

			@Override
			public void overflowClose() {
				ManagedConnection.this.machine.sendBufferOverflowed();
			}

			@Override
			public void written(OutboundMessage message) {
				if (!isHeartbeatPing(message)) {
					ManagedConnection.this.statistics.countSent(message.size());
				}
			}

			@Override
			public void replayOverflow() {
				ManagedConnection.this.machine.resumeBufferOverflowed();
			}
		}, settings.resume().enabled() ? settings.resume().bufferLimit() : 0);
		this.machine = new ConnectionStateMachine(this, scheduler, heartbeats, connector, ioPool, callbacks,
				this.outbound, this.statistics);
	}

	// ---- the browser API, plus resilience ----

	public String name() {
		return this.name;
	}

	public ConnectionSettings settings() {
		return this.settings;
	}

	public ConnectionState state() {
		// Read often (health, filters, loops): no snapshot to build for one field.
		return this.machine.state();
	}

	/** The browser's {@code readyState}: 0 connecting (or waiting to reconnect), 1 open, 2 closing, 3 closed. */
	public int readyState() {
		return state().readyState();
	}

	/** The subprotocol the server chose, or "" (as in the browser). */
	public String protocol() {
		return snapshot().protocol();
	}

	/** The negotiated extensions: always "", the client offers none. */
	public String extensions() {
		return "";
	}

	/** Bytes accepted by {@link #send} but not yet written to the network. */
	public long bufferedAmount() {
		return this.outbound.bufferedBytes();
	}

	/**
	 * With {@code resume.enabled}: bytes of messages written to the server and not yet acknowledged by
	 * it (kept to be sent again after a loss); 0 without resume.
	 */
	public long unacknowledgedAmount() {
		return this.settings.resume().enabled() ? this.outbound.unacknowledgedBytes() : 0;
	}

	/** The number of the current or scheduled connect attempt since the last stable open. */
	public int attempt() {
		return snapshot().attempt();
	}

	/** When the next reconnect attempt starts, while waiting for it. */
	public Optional<Instant> nextAttemptAt() {
		return Optional.ofNullable(snapshot().nextAttemptAt());
	}

	/** How the connection last closed or failed to open. */
	public Optional<CloseEvent> lastClose() {
		return Optional.ofNullable(snapshot().lastClose());
	}

	/** Since when the connection is open. */
	public Optional<Instant> openSince() {
		return Optional.ofNullable(snapshot().openSince());
	}

	/**
	 * Since when the connection has been trying to open: since it was lost, or since {@link #start()}
	 * if it has not opened since. Empty while open, closing or closed.
	 */
	public Optional<Instant> downSince() {
		return Optional.ofNullable(snapshot().downSince());
	}

	/** The round trip of the latest answered heartbeat ping. */
	public Optional<Duration> lastHeartbeatRoundTrip() {
		return Optional.ofNullable(snapshot().lastHeartbeatRoundTrip());
	}

	/** Everything an observer shows of this connection, read together under one lock. */
	public ConnectionSnapshot snapshot() {
		return this.machine.snapshot();
	}

	/** Messages and bytes sent and received, and messages not delivered, since the connection was created. */
	public ConnectionStatistics statistics() {
		return this.statistics;
	}

	/**
	 * Sends a text message. Never blocks, except under the BLOCK overflow policy, for at most
	 * {@code send.block-timeout}. The result says whether the message was accepted; its delivery future
	 * says whether it was written (with {@code resume.enabled} and a server that speaks the protocol:
	 * whether the server acknowledged it).
	 */
	public SendResult send(String text) {
		return this.outbound.offer(OutboundMessage.text(text));
	}

	/** Sends a binary message (the buffer's remaining bytes, copied). See {@link #send(String)}. */
	public SendResult send(ByteBuffer data) {
		return this.outbound.offer(OutboundMessage.binary(data));
	}

	/** Opens the connection; no-op unless closed. A closed connection may be started again. */
	public void start() {
		this.machine.start();
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
	 * @throws IllegalArgumentException for another code or a longer reason
	 */
	public void close(int code, String reason) {
		if (!CloseCodes.isApplicationClose(code)) {
			throw new IllegalArgumentException("Close code " + code + " is not allowed: use 1000, 1001 or 3000-4999");
		}
		if (reason.getBytes(StandardCharsets.UTF_8).length > 123) {
			throw new IllegalArgumentException("Close reason is longer than 123 bytes of UTF-8");
		}
		this.machine.close(code, reason);
	}

	/**
	 * Reconnects now: drops the current connection (if any) without waiting for a close handshake, or
	 * cuts short the wait for the next attempt. From CLOSED it starts afresh, with a new backoff.
	 * @return false, and nothing changes, while the connection is closing or the application stops
	 */
	public boolean reconnect() {
		return this.machine.reconnect();
	}

	/** Closes with 1001 for an application that stops; no reconnect follows, and none can be asked for. */
	CompletableFuture<Void> shutdown() {
		return this.machine.shutdown();
	}

	/** For tests: whether the calling thread holds this connection's lock. */
	boolean lockHeldByCurrentThread() {
		return this.machine.lockHeldByCurrentThread();
	}

	/** A TEXT-mode heartbeat ping: not an application message, so not counted. */
	private boolean isHeartbeatPing(OutboundMessage message) {
		HeartbeatSettings heartbeat = this.settings.heartbeat();
		return heartbeat.mode() == HeartbeatMode.TEXT && message.isText() && message.text().equals(heartbeat.pingText());
	}

	@Override
	public String toString() {
		return "ManagedConnection[" + this.name + ", " + state() + "]";
	}

}
