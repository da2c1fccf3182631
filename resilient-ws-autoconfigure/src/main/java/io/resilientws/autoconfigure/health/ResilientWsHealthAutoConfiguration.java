package io.resilientws.autoconfigure.health;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import io.resilientws.ConfigurationChecks;
import io.resilientws.ResilientWsScheduler;
import io.resilientws.autoconfigure.ResilientWsClientAutoConfiguration;
import io.resilientws.autoconfigure.ResilientWsClientProperties;
import io.resilientws.autoconfigure.ResilientWsServerAutoConfiguration;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.health.ClientConnectionsHealthContributor;
import io.resilientws.health.ConnectionHealthSettings;
import io.resilientws.health.ClusterHealthIndicator;
import io.resilientws.health.ServerSessionsHealthIndicator;
import io.resilientws.server.Fanout;
import io.resilientws.server.ServerSessionRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroupsPostProcessor;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code websockets} health contributor: a composite with a {@code clients} part holding one
 * indicator per managed client connection (the server part joins it when a server registry exists).
 * Off with {@code management.health.websockets.enabled=false}; one connection opts out with
 * {@code resilient-ws.client.connections.<name>.health.enabled=false}.
 */
@AutoConfiguration(after = { ResilientWsClientAutoConfiguration.class, ResilientWsServerAutoConfiguration.class },
		afterName = "org.springframework.boot.health.autoconfigure.actuate.endpoint.AvailabilityProbesAutoConfiguration")
@ConditionalOnClass(HealthContributor.class)
@ConditionalOnEnabledHealthIndicator("websockets")
@EnableConfigurationProperties(ResilientWsHealthProperties.class)
public final class ResilientWsHealthAutoConfiguration {

	/** The contributor's name in /actuator/health. */
	static final String CONTRIBUTOR = "websockets";

	@Bean
	@ConditionalOnMissingBean(name = "websocketsHealthContributor")
	@ConditionalOnBean(ConnectionRegistry.class)
	CompositeHealthContributor websocketsHealthContributor(ConnectionRegistry connections,
			ResilientWsClientProperties properties, ResilientWsScheduler scheduler,
			ObjectProvider<ServerHealthPart> server) {
		Map<String, HealthContributor> parts = new LinkedHashMap<>();
		parts.put("clients", new ClientConnectionsHealthContributor(connections, healthSettings(properties),
				scheduler.taskScheduler().getClock()));
		server.ifAvailable((part) -> parts.putAll(part.indicators()));
		return CompositeHealthContributor.fromMap(parts);
	}

	/**
	 * The server part, where spring-websocket is on the class path. Held in a type of its own: a
	 * {@code HealthIndicator} bean would also be registered by Spring Boot as a contributor by itself.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.web.socket.WebSocketHandler")
	static class ServerHealthConfiguration {

		@Bean
		@ConditionalOnBean(ServerSessionRegistry.class)
		ServerHealthPart resilientWsServerHealthPart(ServerSessionRegistry sessions, ObjectProvider<Fanout> cluster) {
			Map<String, HealthIndicator> indicators = new LinkedHashMap<>();
			indicators.put("server", new ServerSessionsHealthIndicator(sessions));
			// A Fanout bean exists only in cluster mode.
			cluster.ifAvailable((ignored) -> indicators.put("cluster", new ClusterHealthIndicator(sessions)));
			return () -> indicators;
		}

	}

	@FunctionalInterface
	interface ServerHealthPart {

		Map<String, HealthIndicator> indicators();

	}

	@Bean
	@ConditionalOnBooleanProperty("resilient-ws.health.include-in-readiness")
	HealthEndpointGroupsPostProcessor resilientWsReadinessMembership() {
		return new ReadinessMembershipPostProcessor(CONTRIBUTOR);
	}

	/**
	 * Each connection's health settings: its own, else {@code resilient-ws.client.defaults.health}, else the
	 * built-in defaults. Connections registered in code take the defaults. Checked now, so that a bad value
	 * stops the application with the property's name.
	 */
	static Function<String, ConnectionHealthSettings> healthSettings(ResilientWsClientProperties properties) {
		String prefix = "resilient-ws.client.";
		ResilientWsClientProperties.Health defaults = properties.getDefaults().getHealth();
		check(defaults, prefix + "defaults.");
		properties.getConnections()
			.forEach((name, connection) -> check(connection.getHealth(), prefix + "connections." + name + "."));
		return (name) -> {
			ResilientWsClientProperties.Connection connection = properties.getConnections().get(name);
			ResilientWsClientProperties.Health own = (connection != null) ? connection.getHealth()
					: new ResilientWsClientProperties.Health();
			return new ConnectionHealthSettings(
					firstSet(own.getEnabled(), defaults.getEnabled(), ConnectionHealthSettings.DEFAULTS.enabled()),
					firstSet(own.getDownAfter(), defaults.getDownAfter(),
							ConnectionHealthSettings.DEFAULTS.downAfter()));
		};
	}

	private static void check(ResilientWsClientProperties.Health health, String prefix) {
		Duration downAfter = health.getDownAfter();
		if (downAfter != null) {
			ConfigurationChecks.positive(prefix + "health.down-after", downAfter);
		}
	}

	private static <T> T firstSet(@Nullable T own,
			@Nullable T defaults, T builtIn) {
		return (own != null) ? own : (defaults != null) ? defaults : builtIn;
	}

}
