package io.resilientws.health;

import java.time.Clock;
import java.util.Comparator;
import java.util.function.Function;
import java.util.stream.Stream;

import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ManagedConnection;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthContributor;

/**
 * The health of every managed client connection, by name, as the registry holds them now
 * (connections added or removed at runtime come and go). A connection whose settings say
 * {@code enabled = false} is left out.
 */
public final class ClientConnectionsHealthContributor implements CompositeHealthContributor {

	private final ConnectionRegistry connections;

	private final Function<String, ConnectionHealthSettings> settings;

	private final Clock clock;

	/**
	 * @param connections the connections
	 * @param settings the health settings of a connection, by name
	 * @param clock the clock the connections run on (for {@code down-after})
	 */
	public ClientConnectionsHealthContributor(ConnectionRegistry connections,
			Function<String, ConnectionHealthSettings> settings, Clock clock) {
		this.connections = connections;
		this.settings = settings;
		this.clock = clock;
	}

	@Override
	public @Nullable HealthContributor getContributor(String name) {
		return this.connections.find(name).map(this::indicator).orElse(null);
	}

	@Override
	public Stream<Entry> stream() {
		return this.connections.all()
			.stream()
			.sorted(Comparator.comparing(ManagedConnection::name))
			.flatMap((connection) -> Stream.ofNullable(indicator(connection))
				.map((indicator) -> new Entry(connection.name(), indicator)));
	}

	private @Nullable HealthContributor indicator(ManagedConnection connection) {
		ConnectionHealthSettings own = this.settings.apply(connection.name());
		return own.enabled() ? new ConnectionHealthIndicator(connection, own.downAfter(), this.clock) : null;
	}

}
