package io.resilientws.autoconfigure.endpoint;

import io.resilientws.ResilientWsScheduler;
import io.resilientws.actuate.endpoint.ClusterSummary;
import io.resilientws.actuate.endpoint.ServerSummary;
import io.resilientws.actuate.endpoint.TransitionHistory;
import io.resilientws.actuate.endpoint.WebSocketsEndpoint;
import io.resilientws.autoconfigure.ResilientWsClientAutoConfiguration;
import io.resilientws.autoconfigure.ResilientWsServerAutoConfiguration;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.server.Fanout;
import io.resilientws.server.ServerSessionRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code websockets} actuator endpoint, when actuator is present and the endpoint is available
 * (accessible and exposed, e.g. {@code management.endpoints.web.exposure.include=websockets}).
 */
@AutoConfiguration(after = { ResilientWsClientAutoConfiguration.class, ResilientWsServerAutoConfiguration.class })
@ConditionalOnClass({ Endpoint.class, ConditionalOnAvailableEndpoint.class })
@ConditionalOnAvailableEndpoint(WebSocketsEndpoint.class)
public final class ResilientWsEndpointAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(ConnectionRegistry.class)
	WebSocketsEndpoint webSocketsEndpoint(ConnectionRegistry connections, ResilientWsScheduler scheduler,
			ObjectProvider<ServerSummarySource> server) {
		ServerSummarySource source = server.getIfAvailable();
		return new WebSocketsEndpoint(connections, TransitionHistory.of(connections, TransitionHistory.DEFAULT_SIZE),
				scheduler.taskScheduler().getClock(), (source != null) ? source::summary : () -> null,
				(source != null) ? source::cluster : () -> null);
	}

	/** Reaches the server registry only where spring-websocket is on the class path. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.web.socket.WebSocketHandler")
	static class ServerSummaryConfiguration {

		@Bean
		@ConditionalOnBean(ServerSessionRegistry.class)
		ServerSummarySource resilientWsServerSummarySource(ServerSessionRegistry sessions, ObjectProvider<Fanout> cluster) {
			// A Fanout bean exists only in cluster mode.
			boolean clustered = cluster.getIfAvailable() != null;
			return new ServerSummarySource() {

				@Override
				public ServerSummary summary() {
					return ServerSummary.of(sessions);
				}

				@Override
				public @Nullable ClusterSummary cluster() {
					return clustered ? ClusterSummary.of(sessions.clusterView()) : null;
				}

			};
		}

	}

	/** The server part of the endpoint. */
	interface ServerSummarySource {

		ServerSummary summary();

		@Nullable ClusterSummary cluster();

	}

}
