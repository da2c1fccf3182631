package io.resilientws.health;

import java.util.Map;
import java.util.TreeMap;

import io.resilientws.server.EndpointStatistics;
import io.resilientws.server.ManagedSession;
import io.resilientws.server.ServerSessionRegistry;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The server part of the {@code websockets} health: UP while the registry serves sessions,
 * OUT_OF_SERVICE while it drains them for shutdown (new upgrades are refused then). Details: open
 * sessions, in all and per endpoint, and the bytes buffered for them.
 */
public final class ServerSessionsHealthIndicator implements HealthIndicator {

	private final ServerSessionRegistry sessions;

	public ServerSessionsHealthIndicator(ServerSessionRegistry sessions) {
		this.sessions = sessions;
	}

	@Override
	public Health health() {
		Map<String, Integer> perEndpoint = new TreeMap<>();
		for (EndpointStatistics statistics : this.sessions.statistics()) {
			perEndpoint.put(statistics.endpoint(), statistics.openSessions());
		}
		long buffered = 0;
		for (ManagedSession session : this.sessions.sessions()) {
			buffered += session.bufferedAmount();
		}
		Health.Builder health = this.sessions.isDraining() ? Health.outOfService() : Health.up();
		return health.withDetail("sessions", this.sessions.count())
			.withDetail("sessionsPerEndpoint", perEndpoint)
			.withDetail("bufferedBytes", buffered)
			.build();
	}

}
