package io.resilientws.client;

import java.time.Duration;
import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * What a managed connection tells its observers: metrics, health, the endpoint and Spring's
 * application events all read these, never the connection's internals. Each event is published
 * as a Spring application event (listen with {@code @EventListener}) and handed to every
 * {@link ConnectionListener} of the {@link ConnectionRegistry}.
 * <p>
 * Events of one connection arrive in order, one at a time, outside the connection's lock. Nothing is
 * published per message: counts of messages, bytes and undelivered messages are kept in
 * {@link ManagedConnection#statistics()}.
 */
public sealed interface ConnectionEvent permits ConnectionEvent.StateChanged, ConnectionEvent.Closed,
		ConnectionEvent.ReconnectAttempted, ConnectionEvent.HeartbeatAnswered, ConnectionEvent.HeartbeatMissed,
		ConnectionEvent.Resumed {

	/** The name of the connection. */
	String connection();

	/** When it happened. */
	Instant timestamp();

	/**
	 * The connection moved from one state to another.
	 *
	 * @param attempt the number of the current connect attempt since the last stable open
	 */
	record StateChanged(String connection, Instant timestamp, ConnectionState from, ConnectionState to,
			int attempt) implements ConnectionEvent {
	}

	/**
	 * The connection closed or a connect attempt failed.
	 *
	 * @param wasOpen whether the connection had been open (or closing): false when a connect attempt
	 * failed or a pending attempt was called off
	 */
	record Closed(String connection, Instant timestamp, CloseEvent close, boolean wasOpen) implements ConnectionEvent {
	}

	/**
	 * A reconnect attempt (one scheduled after a loss or a failed attempt, or asked for with
	 * {@link ManagedConnection#reconnect()}) ended. The first attempt after {@code start()} is not a
	 * reconnect. An attempt called off by a local close has no outcome.
	 *
	 * @param attempt the number of the attempt since the last stable open
	 * @param succeeded whether the connection opened
	 * @param downtime on success after the loss of an open connection, the time from that loss to this
	 * open; otherwise null
	 */
	record ReconnectAttempted(String connection, Instant timestamp, int attempt, boolean succeeded,
			@Nullable Duration downtime) implements ConnectionEvent {
	}

	/**
	 * A heartbeat ping was answered by a pong (or, in TEXT mode, by the pong text).
	 *
	 * @param roundTrip the time from sending the ping to receiving the answer
	 */
	record HeartbeatAnswered(String connection, Instant timestamp, Duration roundTrip) implements ConnectionEvent {
	}

	/**
	 * A heartbeat ping went unanswered for {@code heartbeat.timeout} (with nothing else proving life,
	 * when any frame counts). When {@code consecutive} reaches {@code maxMissed} the peer is declared
	 * dead and the connection is dropped (1006).
	 *
	 * @param consecutive pings missed in a row, this one included
	 * @param maxMissed misses in a row that declare the peer dead
	 */
	record HeartbeatMissed(String connection, Instant timestamp, int consecutive, int maxMissed)
			implements ConnectionEvent {
	}

	/**
	 * With {@code resume.enabled}, a connection came back after losing a session: whether the server
	 * took it up, and why not. Published with the open it belongs to (after its {@link StateChanged} to
	 * OPEN), as the handler's {@code onResume} is called. Carries no token.
	 *
	 * @param outcome recovered or not, and why
	 */
	record Resumed(String connection, Instant timestamp, ResumeOutcome outcome) implements ConnectionEvent {
	}

}
