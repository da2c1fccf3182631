package io.resilientws.autoconfigure.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.resilientws.autoconfigure.ResilientWsClientAutoConfiguration;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.metrics.ClientConnectionMetrics;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Meters of the managed client connections ({@code resilientws.client.*}), when the application has a
 * Micrometer {@link MeterRegistry} (Spring Boot binds the {@code MeterBinder} to it).
 */
@AutoConfiguration(after = ResilientWsClientAutoConfiguration.class,
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration" })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({ MeterRegistry.class, ConnectionRegistry.class })
public final class ResilientWsMetricsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	ClientConnectionMetrics resilientWsClientConnectionMetrics(ConnectionRegistry connections) {
		return new ClientConnectionMetrics(connections);
	}

}
