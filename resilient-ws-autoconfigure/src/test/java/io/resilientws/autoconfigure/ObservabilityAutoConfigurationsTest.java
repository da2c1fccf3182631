package io.resilientws.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;
import io.resilientws.actuate.endpoint.WebSocketsEndpoint;
import io.resilientws.autoconfigure.endpoint.ResilientWsEndpointAutoConfiguration;
import io.resilientws.autoconfigure.health.ResilientWsHealthAutoConfiguration;
import io.resilientws.autoconfigure.metrics.ResilientWsMetricsAutoConfiguration;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.metrics.ClientConnectionMetrics;
import io.resilientws.testsupport.RecordingHandler;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metrics, health and endpoint auto-configurations: each steps in when its module and beans are
 * there, and the starter backs off cleanly, connections still working, when they are not.
 */
class ObservabilityAutoConfigurationsTest {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ResilientWsAutoConfiguration.class,
				ResilientWsClientAutoConfiguration.class, SslAutoConfiguration.class,
				ResilientWsMetricsAutoConfiguration.class, ResilientWsHealthAutoConfiguration.class,
				ResilientWsEndpointAutoConfiguration.class, EndpointAutoConfiguration.class))
		.withBean(RecordingHandler.class, RecordingHandler::new)
		.withPropertyValues("resilient-ws.client.defaults.auto-startup=false",
				"resilient-ws.client.connections.feed.url=ws://127.0.0.1:1/ws",
				"management.endpoints.web.exposure.include=websockets");

	private final ApplicationContextRunner withMetrics = this.runner
		.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
				CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class));

	@Test
	void runWithAMeterRegistryBindsTheConnectionMeters() {
		this.withMetrics.run((context) -> {
			assertThat(context).hasSingleBean(ClientConnectionMetrics.class);
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			assertThat(registry.get("resilientws.client.state").tag("connection", "feed").tag("state", "closed")
				.gauge()
				.value()).isEqualTo(1);
		});
	}

	@Test
	void runWithoutAMeterRegistryHasNoMeters() {
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed().doesNotHaveBean(ClientConnectionMetrics.class);
			assertThat(context.getBean(ConnectionRegistry.class).get("feed")).isNotNull();
		});
	}

	@Test
	void runWithoutMicrometerBacksOff() {
		this.withMetrics.withClassLoader(new FilteredClassLoader("io.micrometer."))
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(ClientConnectionMetrics.class)
				.hasSingleBean(ConnectionRegistry.class));
	}

	@Test
	void runWithActuatorProvidesTheEndpointAndTheHealthContributor() {
		this.runner.run((context) -> assertThat(context).hasSingleBean(WebSocketsEndpoint.class)
			.hasBean("websocketsHealthContributor"));
	}

	@Test
	void runWithTheEndpointNotExposedHasNoEndpoint() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=health")
			.run((context) -> assertThat(context).doesNotHaveBean(WebSocketsEndpoint.class));
	}

	@Test
	void runWithTheEndpointAccessNoneHasNoEndpoint() {
		this.runner.withPropertyValues("management.endpoint.websockets.access=NONE")
			.run((context) -> assertThat(context).doesNotHaveBean(WebSocketsEndpoint.class));
	}

	@Test
	void runWithoutActuatorHealthOrMicrometerStillRunsConnections() {
		this.withMetrics
			.withClassLoader(new FilteredClassLoader((name) -> name.startsWith("io.micrometer.")
					|| name.equals(Endpoint.class.getName()) || name.equals(HealthContributor.class.getName())))
			.run((context) -> {
				assertThat(context).hasNotFailed()
					.hasSingleBean(ConnectionRegistry.class)
					.doesNotHaveBean(WebSocketsEndpoint.class)
					.doesNotHaveBean(ClientConnectionMetrics.class)
					.doesNotHaveBean("websocketsHealthContributor");
				assertThat(context.getBean(ConnectionRegistry.class).get("feed").settings().url())
					.hasToString("ws://127.0.0.1:1/ws");
			});
	}

	@Test
	void runWithoutHealthHasNoHealthContributorButTheRest() {
		this.withMetrics.withClassLoader(new FilteredClassLoader(HealthContributor.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean("websocketsHealthContributor")
				.hasSingleBean(WebSocketsEndpoint.class)
				.hasSingleBean(ClientConnectionMetrics.class));
	}

	@Test
	void runWithoutActuatorHasNoEndpointButTheRest() {
		this.withMetrics.withClassLoader(new FilteredClassLoader(Endpoint.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(WebSocketsEndpoint.class)
				.hasBean("websocketsHealthContributor")
				.hasSingleBean(ClientConnectionMetrics.class));
	}

}
