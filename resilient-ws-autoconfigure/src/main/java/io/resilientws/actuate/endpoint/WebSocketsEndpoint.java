package io.resilientws.actuate.endpoint;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import io.resilientws.actuate.endpoint.TransitionHistory.Close;
import io.resilientws.actuate.endpoint.TransitionHistory.Transition;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionSnapshot;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code websockets} endpoint ({@code /actuator/websockets}): every managed client connection,
 * and one connection with its recent state transitions; and, when access is unrestricted, reconnecting
 * or closing a connection.
 * <p>
 * Read-only by default: the write operation needs
 * {@code management.endpoint.websockets.access=unrestricted}. URLs are shown without user info and
 * query string; header values are never shown.
 */
@Endpoint(id = "websockets", defaultAccess = Access.READ_ONLY)
public class WebSocketsEndpoint {

	private final ConnectionRegistry connections;

	private final TransitionHistory history;

	private final Clock clock;

	private final Supplier<@Nullable ServerSummary> server;

	private final Supplier<@Nullable ClusterSummary> cluster;

	/**
	 * @param connections the client connections
	 * @param history their recent transitions
	 * @param clock the clock the connections run on (for uptimes)
	 */
	public WebSocketsEndpoint(ConnectionRegistry connections, TransitionHistory history, Clock clock) {
		this(connections, history, clock, () -> null);
	}

	/**
	 * @param connections the client connections
	 * @param history their recent transitions
	 * @param clock the clock the connections run on (for uptimes)
	 * @param server the summary of the server sessions ({@link ServerSummary#of}), null without a server
	 * registry
	 */
	public WebSocketsEndpoint(ConnectionRegistry connections, TransitionHistory history, Clock clock,
			Supplier<@Nullable ServerSummary> server) {
		this(connections, history, clock, server, () -> null);
	}

	/**
	 * As above, with the cluster part ({@link ClusterSummary#of}), null without cluster mode.
	 */
	public WebSocketsEndpoint(ConnectionRegistry connections, TransitionHistory history, Clock clock,
			Supplier<@Nullable ServerSummary> server, Supplier<@Nullable ClusterSummary> cluster) {
		this.cluster = cluster;
		this.connections = connections;
		this.history = history;
		this.clock = clock;
		this.server = server;
	}

	/** Every client connection, by name, and a summary of the server sessions (when there is a server registry). */
	@ReadOperation
	public WebSocketsDescriptor websockets() {
		Map<String, ConnectionDescriptor> clients = new LinkedHashMap<>();
		this.connections.all()
			.stream()
			.sorted(Comparator.comparing(ManagedConnection::name))
			.forEach((connection) -> clients.put(connection.name(), describe(connection, null)));
		return new WebSocketsDescriptor(clients, this.server.get(), this.cluster.get());
	}

	/** One client connection with its recent transitions, or 404 when there is none of that name. */
	@ReadOperation
	public @Nullable ConnectionDescriptor connection(@Selector String name) {
		return this.connections.find(name)
			.map((connection) -> describe(connection, this.history.transitions(name)))
			.orElse(null);
	}

	/**
	 * Acts on a client connection: {@code reconnect} (now: drops the current connection, or cuts the wait
	 * short, or opens a closed one) or {@code close} (with {@code code}, 1000 unless given, and an optional
	 * {@code reason}; no reconnect follows). Returns the connection afterwards. An unknown name, action or
	 * code is a bad request (400) that changes nothing.
	 */
	@WriteOperation
	public ConnectionDescriptor act(@Selector String name, String action, @Nullable Integer code,
			@Nullable String reason) {
		ManagedConnection connection = this.connections.find(name).orElse(null);
		if (connection == null) {
			// Not 404: a write operation has no technology-neutral way to say it; null would be 204.
			String message = "No connection named '" + name + "'";
			throw new InvalidEndpointRequestException(message, message);
		}
		switch (action.toLowerCase(Locale.ROOT)) {
			case "reconnect" -> {
				if (!connection.reconnect()) {
					String message = "Connection '" + name + "' is closing or the application is stopping: not reconnected";
					throw new InvalidEndpointRequestException(message, message);
				}
			}
			case "close" -> {
				try {
					connection.close((code != null) ? code : 1000, (reason != null) ? reason : "");
				}
				catch (IllegalArgumentException ex) {
					throw new InvalidEndpointRequestException(ex.getMessage(), ex.getMessage());
				}
			}
			default -> {
				String message = "Unknown action '" + action + "': use 'reconnect' or 'close'";
				throw new InvalidEndpointRequestException(message, message);
			}
		}
		return describe(connection, null);
	}

	private ConnectionDescriptor describe(ManagedConnection connection, @Nullable List<Transition> transitions) {
		ConnectionSnapshot snapshot = connection.snapshot();
		Instant openSince = snapshot.openSince();
		return new ConnectionDescriptor(connection.name(), connection.settings().redactedUrl(), snapshot.state(),
				snapshot.protocol(), snapshot.attempt(), snapshot.nextAttemptAt(), openSince,
				(openSince != null) ? Duration.between(openSince, this.clock.instant()).truncatedTo(ChronoUnit.MILLIS)
						: null,
				connection.bufferedAmount(), snapshot.lastHeartbeatRoundTrip(),
				(snapshot.lastClose() != null) ? Close.of(snapshot.lastClose()) : null, transitions);
	}

	/**
	 * The response of {@code /actuator/websockets}.
	 *
	 * @param clients the client connections, by name
	 * @param server the server sessions; null (and absent from the JSON) without a server registry
	 * @param cluster the instances of the cluster; null (and absent from the JSON) without cluster mode
	 */
	public record WebSocketsDescriptor(Map<String, ConnectionDescriptor> clients, @Nullable ServerSummary server,
			@Nullable ClusterSummary cluster) implements OperationResponseBody {
	}

	/**
	 * One client connection.
	 *
	 * @param name the connection's name
	 * @param url the URL, without user info and query string
	 * @param state the state
	 * @param subprotocol the subprotocol the server chose, "" for none
	 * @param attempt the number of the current or scheduled connect attempt since the last stable open
	 * @param nextAttemptAt when the next attempt starts, while waiting to reconnect
	 * @param openSince since when the connection is open
	 * @param uptime how long the connection has been open
	 * @param bufferedBytes bytes accepted but not yet written
	 * @param lastHeartbeatRoundTrip the round trip of the latest answered heartbeat ping
	 * @param lastClose how the connection last closed or failed to open
	 * @param transitions the recent state transitions, oldest first (only for a single connection)
	 */
	public record ConnectionDescriptor(String name, String url, ConnectionState state, String subprotocol, int attempt,
			@Nullable Instant nextAttemptAt, @Nullable Instant openSince, @Nullable Duration uptime, long bufferedBytes,
			@Nullable Duration lastHeartbeatRoundTrip, @Nullable Close lastClose,
			@Nullable List<Transition> transitions) implements OperationResponseBody {
	}

}
