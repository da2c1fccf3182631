package io.resilientws.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.resilientws.client.ConnectionEvent;
import io.resilientws.client.ConnectionListener;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ConnectionStatistics;
import io.resilientws.client.ManagedConnection;
import io.resilientws.send.SendFailure;
import org.jspecify.annotations.Nullable;

/**
 * Meters of every managed client connection, tagged {@code connection} with the connection's name.
 * Tags are bounded: names, states, outcomes, close codes and reasons, never URLs or session ids.
 * <p>
 * Counts the connection keeps anyway (messages, bytes, undelivered messages, buffered bytes, the
 * state) are read when the registry is scraped; the rest is counted from {@link ConnectionEvent}s.
 * Meters of a connection that is {@link ConnectionRegistry#remove removed} are removed from the
 * registry. Binds to one registry (Spring Boot binds it to its composite registry).
 */
public final class ClientConnectionMetrics implements MeterBinder, ConnectionListener {

	/** The prefix of every meter name. */
	public static final String PREFIX = "resilientws.client.";

	/** The tag that names the connection. */
	public static final String CONNECTION_TAG = "connection";

	private static final String PINGS = "pings";

	private final ConnectionRegistry connections;

	/** The meters updated from events, by connection name; only connections that exist are here. */
	private final Map<String, ConnectionMeters> meters = new ConcurrentHashMap<>();

	private volatile @Nullable MeterRegistry registry;

	public ClientConnectionMetrics(ConnectionRegistry connections) {
		this.connections = connections;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		this.registry = registry;
		// Listen first, then take the existing ones: a connection registered in between is seen twice,
		// and added once.
		this.connections.addListener(this);
		this.connections.all().forEach(this::connectionAdded);
	}

	@Override
	public void connectionAdded(ManagedConnection connection) {
		MeterRegistry registry = this.registry;
		if (registry != null) {
			this.meters.computeIfAbsent(connection.name(), (name) -> new ConnectionMeters(registry, connection));
		}
	}

	@Override
	public void connectionRemoved(ManagedConnection connection) {
		MeterRegistry registry = this.registry;
		if (registry == null || this.meters.remove(connection.name()) == null) {
			return;
		}
		List<Meter> owned = new ArrayList<>();
		for (Meter meter : registry.getMeters()) {
			Meter.Id id = meter.getId();
			if (id.getName().startsWith(PREFIX) && connection.name().equals(id.getTag(CONNECTION_TAG))) {
				owned.add(meter);
			}
		}
		owned.forEach(registry::remove);
	}

	@Override
	public void onEvent(ConnectionEvent event) {
		ConnectionMeters target = this.meters.get(event.connection());
		if (target == null) {
			return;
		}
		if (event instanceof ConnectionEvent.ReconnectAttempted reconnect) {
			(reconnect.succeeded() ? target.reconnectSuccesses : target.reconnectFailures).increment();
			if (reconnect.downtime() != null) {
				target.downtime.record(reconnect.downtime());
			}
		}
		else if (event instanceof ConnectionEvent.Closed closed && closed.wasOpen()) {
			target.close(closed.close().code(), lowerCase(closed.close().initiator()));
		}
		else if (event instanceof ConnectionEvent.HeartbeatMissed) {
			target.heartbeatTimeouts.increment();
		}
		else if (event instanceof ConnectionEvent.HeartbeatAnswered answered) {
			target.heartbeatRoundTrip.record(answered.roundTrip());
		}
		else if (event instanceof ConnectionEvent.Resumed resumed) {
			target.resumed(resumed.outcome().recovered() ? "recovered"
					: resumed.outcome().notRecoveredReason().map(ClientConnectionMetrics::lowerCase).orElse("unknown"));
		}
	}

	static String lowerCase(Enum<?> value) {
		return value.name().toLowerCase(Locale.ROOT);
	}

	/** One connection's meters. */
	private static final class ConnectionMeters {

		private final MeterRegistry registry;

		private final Tags tags;

		private final Counter reconnectSuccesses;

		private final Counter reconnectFailures;

		private final Timer downtime;

		private final Counter heartbeatTimeouts;

		private final Timer heartbeatRoundTrip;

		ConnectionMeters(MeterRegistry registry, ManagedConnection connection) {
			this.registry = registry;
			this.tags = Tags.of(CONNECTION_TAG, connection.name());
			for (ConnectionState state : ConnectionState.values()) {
				Gauge.builder(PREFIX + "state", connection, (c) -> (c.state() == state) ? 1 : 0)
					.tags(this.tags)
					.tag("state", lowerCase(state))
					.baseUnit(BaseUnits.CONNECTIONS)
					.description("Whether the connection is in this state: 1 for its current state, 0 for the others")
					.register(registry);
			}
			Gauge.builder(PREFIX + "buffered", connection, ManagedConnection::bufferedAmount)
				.tags(this.tags)
				.baseUnit(BaseUnits.BYTES)
				.description("Bytes accepted by send but not yet written to the network (bufferedAmount)")
				.register(registry);
			traffic(connection, "messages.sent", BaseUnits.MESSAGES, "Messages written to the network",
					ConnectionStatistics::messagesSent);
			traffic(connection, "messages.received", BaseUnits.MESSAGES, "Whole messages received",
					ConnectionStatistics::messagesReceived);
			traffic(connection, "bytes.sent", BaseUnits.BYTES, "Payload bytes of the messages written",
					ConnectionStatistics::bytesSent);
			traffic(connection, "bytes.received", BaseUnits.BYTES, "Payload bytes of the messages received",
					ConnectionStatistics::bytesReceived);
			for (SendFailure reason : SendFailure.values()) {
				FunctionCounter
					.builder(PREFIX + "send.rejected", connection, (c) -> c.statistics().undelivered(reason))
					.tags(this.tags)
					.tag("reason", lowerCase(reason))
					.baseUnit(BaseUnits.MESSAGES)
					.description("Messages not delivered: refused by send, or failed later through their "
							+ "delivery future, by reason")
					.register(registry);
			}
			this.reconnectSuccesses = reconnects("success");
			this.reconnectFailures = reconnects("failure");
			this.downtime = Timer.builder(PREFIX + "downtime")
				.tags(this.tags)
				.description("Time from the loss of an open connection to the next open")
				.register(registry);
			this.heartbeatTimeouts = Counter.builder(PREFIX + "heartbeat.timeouts")
				.tags(this.tags)
				.baseUnit(PINGS)
				.description("Heartbeat pings not answered within heartbeat.timeout")
				.register(registry);
			this.heartbeatRoundTrip = Timer.builder(PREFIX + "heartbeat.rtt")
				.tags(this.tags)
				.description("Round-trip time of answered heartbeat pings")
				.register(registry);
		}

		private void traffic(ManagedConnection connection, String name, String unit, String description,
				ToLongFunction<ConnectionStatistics> count) {
			FunctionCounter.builder(PREFIX + name, connection, (c) -> count.applyAsLong(c.statistics()))
				.tags(this.tags)
				.baseUnit(unit)
				.description(description)
				.register(this.registry);
		}

		private Counter reconnects(String outcome) {
			return Counter.builder(PREFIX + "reconnects")
				.tags(this.tags)
				.tag("outcome", outcome)
				.baseUnit("attempts")
				.description("Reconnect attempts, by outcome")
				.register(this.registry);
		}

		void resumed(String outcome) {
			// Outcomes are a fixed set: recovered, or one of ResumeOutcome.Reason.
			Counter.builder(PREFIX + "resumes")
				.tags(this.tags)
				.tag("outcome", outcome)
				.baseUnit("resumes")
				.description("Sessions this connection came back to after a loss, by outcome (recovered, or why not)")
				.register(this.registry)
				.increment();
		}

		void close(int code, String initiator) {
			// Codes are bounded (1000-4999), and the registry returns the counter it already has.
			Counter.builder(PREFIX + "closes")
				.tags(this.tags)
				.tag("code", String.valueOf(code))
				.tag("initiator", initiator)
				.baseUnit(BaseUnits.CONNECTIONS)
				.description("Closes of open connections, by close code and initiator")
				.register(this.registry)
				.increment();
		}

	}

}
