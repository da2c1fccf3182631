package io.resilientws.autoconfigure.metrics;

import java.time.Duration;

import io.micrometer.core.instrument.MeterRegistry;
import io.resilientws.ResilientWsScheduler;
import io.resilientws.autoconfigure.ResilientWsClientAutoConfiguration;
import io.resilientws.autoconfigure.ResilientWsClusterAutoConfiguration;
import io.resilientws.autoconfigure.ResilientWsServerAutoConfiguration;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.metrics.ClientConnectionMetrics;
import io.resilientws.cluster.RedisFanout;
import io.resilientws.metrics.ClusterMetrics;
import io.resilientws.metrics.ServerSessionMetrics;
import io.resilientws.server.ServerSessionRegistry;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Meters of the managed client connections ({@code resilientws.client.*}) and of the server sessions
 * ({@code resilientws.server.*}) and of cluster mode ({@code resilientws.cluster.*}), when the application has a Micrometer {@link MeterRegistry} (Spring
 * Boot binds the {@code MeterBinder}s to it).
 */
@AutoConfiguration(after = { ResilientWsClientAutoConfiguration.class, ResilientWsServerAutoConfiguration.class,
		ResilientWsClusterAutoConfiguration.class },
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration" })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean(MeterRegistry.class)
public final class ResilientWsMetricsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(ConnectionRegistry.class)
	ClientConnectionMetrics resilientWsClientConnectionMetrics(ConnectionRegistry connections) {
		return new ClientConnectionMetrics(connections);
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.web.socket.WebSocketHandler")
	@ConditionalOnBean(ServerSessionRegistry.class)
	static class ServerMetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		ServerSessionMetrics resilientWsServerSessionMetrics(ServerSessionRegistry sessions,
				ResilientWsScheduler scheduler) {
			return new ServerSessionMetrics(sessions, scheduler.taskScheduler(), Duration.ofSeconds(5));
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.data.redis.connection.ReactiveRedisConnectionFactory")
	@ConditionalOnBean({ ServerSessionRegistry.class, RedisFanout.class })
	static class ClusterMetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		ClusterMetrics resilientWsClusterMetrics(ServerSessionRegistry sessions, RedisFanout fanout) {
			return new ClusterMetrics(sessions, fanout.statistics());
		}

	}

}
