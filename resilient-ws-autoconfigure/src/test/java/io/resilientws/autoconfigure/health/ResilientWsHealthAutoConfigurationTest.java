package io.resilientws.autoconfigure.health;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;

import io.resilientws.ResilientWsScheduler;
import io.resilientws.autoconfigure.ResilientWsClientAutoConfiguration;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;
import io.resilientws.health.ConnectionHealthIndicator;
import io.resilientws.testsupport.ManualTaskScheduler;
import io.resilientws.testsupport.RecordingHandler;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.health.actuate.endpoint.CompositeHealthDescriptor;
import org.springframework.boot.health.actuate.endpoint.HealthDescriptor;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.health.autoconfigure.actuate.endpoint.AvailabilityProbesAutoConfiguration;
import org.springframework.boot.health.autoconfigure.actuate.endpoint.HealthEndpointAutoConfiguration;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The websockets health contributor in a running application, with its connections on a manual clock
 * so that {@code down-after} is exact: UP, RECONNECTING, DOWN and UP again, the readiness group, the
 * opt-outs.
 */
class ResilientWsHealthAutoConfigurationTest {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private final ManualTaskScheduler clock = new ManualTaskScheduler();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ResilientWsClientAutoConfiguration.class,
				ResilientWsHealthAutoConfiguration.class, SslAutoConfiguration.class, EndpointAutoConfiguration.class,
				HealthContributorAutoConfiguration.class, HealthContributorRegistryAutoConfiguration.class,
				HealthEndpointAutoConfiguration.class, ApplicationAvailabilityAutoConfiguration.class,
				AvailabilityProbesAutoConfiguration.class))
		.withBean(ResilientWsScheduler.class, () -> ResilientWsScheduler.of(this.clock))
		.withUserConfiguration(Handler.class);

	@Test
	void healthGoesUpThenReconnectingThenDownAfterDownAfterThenUpAgain() {
		try (TestWebSocketServer server = TestWebSocketServer.start(); TcpProxy proxy = TcpProxy.start(server.port())) {
			this.runner
				.withPropertyValues("resilient-ws.client.connections.feed.url=ws://127.0.0.1:" + proxy.port() + "/ws",
						"resilient-ws.client.connections.feed.reconnect.jitter=0",
						"resilient-ws.client.connections.feed.health.down-after=10s",
						"resilient-ws.health.include-in-readiness=true")
				.run((context) -> {
					AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
					ManagedConnection feed = context.getBean(ConnectionRegistry.class).get("feed");
					await().atMost(WAIT).until(feed::state, ConnectionState.OPEN::equals);
					assertThat(status(context, "websockets", "clients", "feed")).isEqualTo(Status.UP);
					assertThat(status(context, "readiness")).isEqualTo(Status.UP);

					server.stop();
					await().atMost(WAIT).until(feed::state, ConnectionState.WAITING_TO_RECONNECT::equals);
					assertThat(status(context, "websockets", "clients", "feed"))
						.isEqualTo(ConnectionHealthIndicator.RECONNECTING);
					// Not in the default status order: reconnecting does not make the application unready.
					assertThat(status(context, "readiness")).isEqualTo(Status.UP);

					// 9.999 s later (a failed attempt in between): still reconnecting; at 10 s: DOWN.
					this.clock.advance(Duration.ofMillis(9999));
					assertThat(status(context, "websockets", "clients", "feed"))
						.isEqualTo(ConnectionHealthIndicator.RECONNECTING);
					this.clock.advance(Duration.ofMillis(1));
					assertThat(status(context, "websockets", "clients", "feed")).isEqualTo(Status.DOWN);
					assertThat(status(context, "websockets")).isEqualTo(Status.DOWN);
					assertThat(status(context, "readiness")).isEqualTo(Status.DOWN);

					try (TestWebSocketServer back = TestWebSocketServer.start()) {
						proxy.retarget(back.port());
						await().atMost(WAIT).until(() -> feed.nextAttemptAt().isPresent());
						this.clock.advanceTo(feed.nextAttemptAt().get());
						await().atMost(WAIT).until(feed::state, ConnectionState.OPEN::equals);
						assertThat(status(context, "websockets", "clients", "feed")).isEqualTo(Status.UP);
						assertThat(status(context, "readiness")).isEqualTo(Status.UP);
					}
				});
		}
	}

	@Test
	void connectionOutOfAttemptsIsDownAtOnce() throws IOException {
		this.runner
			.withPropertyValues("resilient-ws.client.connections.feed.url=ws://127.0.0.1:" + refusedPort() + "/ws",
					"resilient-ws.client.connections.feed.reconnect.max-attempts=1",
					"resilient-ws.client.connections.feed.health.down-after=1h")
			.run((context) -> {
				ManagedConnection feed = context.getBean(ConnectionRegistry.class).get("feed");
				await().atMost(WAIT).until(() -> feed.nextAttemptAt().isPresent());
				assertThat(status(context, "websockets", "clients", "feed"))
					.isEqualTo(ConnectionHealthIndicator.RECONNECTING);
				this.clock.advanceTo(feed.nextAttemptAt().get());
				await().atMost(WAIT).until(feed::state, ConnectionState.CLOSED::equals);
				assertThat(status(context, "websockets", "clients", "feed")).isEqualTo(Status.DOWN);
			});
	}

	@Test
	void connectionClosedOnPurposeOrNeverStartedIsClosedAndDoesNotCount() throws IOException {
		this.runner
			.withPropertyValues("resilient-ws.client.connections.idle.url=ws://127.0.0.1:" + refusedPort() + "/ws",
					"resilient-ws.client.connections.idle.auto-startup=false")
			.run((context) -> {
				assertThat(status(context, "websockets", "clients", "idle")).isEqualTo(ConnectionHealthIndicator.CLOSED);
				// CLOSED is not in the default status order: the aggregate ignores it.
				assertThat(status(context, "websockets")).isEqualTo(Status.UNKNOWN);
			});
	}

	@Test
	void connectionCanOptOut() throws IOException {
		int port = refusedPort();
		this.runner
			.withPropertyValues("resilient-ws.client.defaults.auto-startup=false",
					"resilient-ws.client.connections.a.url=ws://127.0.0.1:" + port + "/ws",
					"resilient-ws.client.connections.b.url=ws://127.0.0.1:" + port + "/ws",
					"resilient-ws.client.connections.b.health.enabled=false")
			.run((context) -> {
				CompositeHealthDescriptor clients = (CompositeHealthDescriptor) health(context, "websockets", "clients");
				assertThat(clients.getComponents()).containsOnlyKeys("a");
			});
	}

	@Test
	void defaultsApplyToEveryConnection() throws IOException {
		this.runner
			.withPropertyValues("resilient-ws.client.defaults.health.enabled=false",
					"resilient-ws.client.connections.a.url=ws://127.0.0.1:" + refusedPort() + "/ws",
					"resilient-ws.client.connections.a.auto-startup=false")
			.run((context) -> assertThat(health(context, "websockets")).isNull());
	}

	@Test
	void readinessLeavesWebsocketsOutUnlessAskedTo() {
		this.runner.run((context) -> {
			context.getBean(ConnectionRegistry.class)
				.register("late", context.getBean(ConnectionRegistry.class).settingsBuilder()
					.url("ws://127.0.0.1:1/ws")
					.autoStartup(false)
					.build(), new RecordingHandler());
			assertThat(health(context, "websockets", "clients", "late")).isNotNull();
			CompositeHealthDescriptor readiness = (CompositeHealthDescriptor) health(context, "readiness");
			assertThat(readiness.getComponents()).containsOnlyKeys("readinessState");
		});
	}

	@Test
	void disabledHealthIndicatorBacksOff() {
		this.runner.withPropertyValues("management.health.websockets.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean("websocketsHealthContributor"));
	}

	@Test
	void invalidDownAfterFailsWithThePropertyName() {
		this.runner.withPropertyValues("resilient-ws.client.defaults.auto-startup=false",
				"resilient-ws.client.connections.a.url=ws://127.0.0.1:1/ws",
				"resilient-ws.client.connections.a.health.down-after=0s")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("resilient-ws.client.connections.a.health.down-after")
				.hasMessageContaining("positive duration"));
	}

	private static Status status(AssertableApplicationContext context, String... path) {
		HealthDescriptor health = health(context, path);
		assertThat(health).as("health of %s", String.join("/", path)).isNotNull();
		return health.getStatus();
	}

	private static HealthDescriptor health(AssertableApplicationContext context, String... path) {
		return context.getBean(HealthEndpoint.class).healthForPath(path);
	}

	private static int refusedPort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

	@Configuration(proxyBeanMethods = false)
	static class Handler {

		@Bean
		RecordingHandler handler() {
			return new RecordingHandler();
		}

	}

}
