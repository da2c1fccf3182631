package io.resilientws.server;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.jayway.jsonpath.JsonPath;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.resilientws.testsupport.Http;
import io.resilientws.testsupport.RawClient;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The server half of the observability: {@code resilientws.server.*} meters after a real scripted
 * scenario, the server part of {@code /actuator/websockets} and of the {@code websockets} health, over
 * HTTP from a real application on embedded Tomcat.
 */
class ServerObservabilityTest {

	private static final Duration WAIT = Duration.ofSeconds(15);

	private final List<AutoCloseable> resources = new ArrayList<>();

	private TestWebSocketServer server;

	@AfterEach
	void closeAll() throws Exception {
		for (AutoCloseable resource : this.resources) {
			resource.close();
		}
		this.server.close();
	}

	@Test
	void metersCountSessionsMessagesAndClosesByCause() {
		ServerSessionRegistry registry = start("resilient-ws.server.heartbeat.interval=300ms",
				"resilient-ws.server.heartbeat.timeout=300ms");
		MeterRegistry meters = this.server.applicationContext().getBean(MeterRegistry.class);
		// One client talks and leaves normally, one stays, one goes silent behind a frozen link.
		RawClient talker = client(this.server.url());
		client(this.server.url());
		TcpProxy proxy = proxy();
		client("ws://127.0.0.1:" + proxy.port() + "/ws");
		await().atMost(WAIT).until(() -> registry.count() == 3);
		for (int i = 0; i < 3; i++) {
			talker.send("message " + i);
		}
		await().atMost(WAIT).until(() -> talker.messages.size() == 3);
		talker.send("close:1000");
		proxy.freeze();
		await().atMost(WAIT).until(() -> registry.count() == 1);

		await().atMost(WAIT).untilAsserted(() -> {
			assertThat(meters.get("resilientws.server.sessions").tags("endpoint", "/ws").gauge().value()).isEqualTo(1);
			assertThat(meters.get("resilientws.server.sessions.opened").tags("endpoint", "/ws").functionCounter().count())
				.isEqualTo(3);
			assertThat(meters.get("resilientws.server.messages.received").tags("endpoint", "/ws").functionCounter().count())
				.isEqualTo(4);
			assertThat(meters.get("resilientws.server.messages.sent").tags("endpoint", "/ws").functionCounter().count())
				.isEqualTo(3);
			// Three echoes never come near half a send buffer: nobody was paused.
			assertThat(meters.get("resilientws.server.inbound.paused").tags("endpoint", "/ws").functionCounter().count())
				.isZero();
			assertThat(meters.get("resilientws.server.closes")
				.tags("endpoint", "/ws", "code", "1000", "cause", "normal")
				.counter()
				.count()).isEqualTo(1);
			assertThat(meters.get("resilientws.server.closes")
				.tags("endpoint", "/ws", "code", "1006", "cause", "heartbeat-timeout")
				.counter()
				.count()).isEqualTo(1);
			assertThat(meters.get("resilientws.server.heartbeat.timeouts").tags("endpoint", "/ws").counter().count())
				.isEqualTo(1);
		});
		for (Meter meter : meters.getMeters()) {
			if (meter.getId().getName().startsWith("resilientws.server.")) {
				assertThat(meter.getId().getDescription()).as(meter.getId().getName()).isNotBlank();
				assertThat(meter.getId().getBaseUnit()).as(meter.getId().getName()).isNotBlank();
				assertThat(meter.getId().getTags()).allSatisfy((tag) -> assertThat(tag.getKey()).isIn("endpoint",
						"code", "cause", "policy"));
			}
		}
	}

	@Test
	void overflowsBuffersEndpointAndHealthShowASlowClient() {
		ServerSessionRegistry registry = start("resilient-ws.server.heartbeat.enabled=false",
				"resilient-ws.server.send.buffer-limit=256KB", "resilient-ws.server.send.overflow=drop-newest");
		MeterRegistry meters = this.server.applicationContext().getBean(MeterRegistry.class);
		client(this.server.url());
		await().atMost(WAIT).until(() -> registry.count() == 1);
		ManagedSession healthy = registry.sessions().iterator().next();
		TcpProxy proxy = proxy();
		client("ws://127.0.0.1:" + proxy.port() + "/ws");
		await().atMost(WAIT).until(() -> registry.count() == 2);
		proxy.freeze();
		ManagedSession slow = registry.sessions().stream().filter((session) -> session != healthy).findFirst().orElseThrow();
		String payload = "b".repeat(32 * 1024);
		// More than the kernel can hold for a peer that does not read (Linux autotunes a receive buffer
		// up to 32 MB, plus 4 MB of send buffer): then the session's own buffer fills and stays full.
		// Offered until the kernel's buffers are full too, so that the session's own buffer stays full:
		// more is offered whenever it is not, until it has stayed full for three polls in a row. (A burst
		// offered all at once can end while the kernel still takes bytes; then the buffer empties.)
		AtomicInteger fullPolls = new AtomicInteger();
		await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(150)).until(() -> {
			if (slow.bufferedAmount() > 224 * 1024) {
				return fullPolls.incrementAndGet() >= 3;
			}
			fullPolls.set(0);
			for (int i = 0; i < 100; i++) {
				registry.broadcastLocally(payload, (session) -> session == slow);
			}
			return false;
		});
		assertThat(registry.broadcastLocally(payload, (session) -> session == slow).rejected()).isEqualTo(1);
		assertThat(meters.get("resilientws.server.send.overflows")
			.tags("endpoint", "/ws", "policy", "drop_newest")
			.counter()
			.count()).isPositive();
		assertThat(meters.get("resilientws.server.buffered").gauge().value()).isPositive();

		HttpResponse<String> endpoint = Http.get(this.server.port(), "/actuator/websockets");
		assertThat(endpoint.statusCode()).isEqualTo(200);
		String json = endpoint.body();
		assertThat((Integer) JsonPath.read(json, "$.server.sessions")).isEqualTo(2);
		assertThat((Integer) JsonPath.read(json, "$.server.sessionsPerEndpoint['/ws']")).isEqualTo(2);
		assertThat((Boolean) JsonPath.read(json, "$.server.draining")).isFalse();
		List<Integer> largest = JsonPath.read(json, "$.server.largestBuffers[*].bufferedBytes");
		assertThat(largest).hasSize(2);
		assertThat(largest.get(0)).isGreaterThan(224 * 1024).isLessThanOrEqualTo(256 * 1024);

		HttpResponse<String> health = Http.get(this.server.port(), "/actuator/health");
		assertThat((String) JsonPath.read(health.body(), "$.components.websockets.components.server.status"))
			.isEqualTo("UP");
		assertThat((Integer) JsonPath.read(health.body(), "$.components.websockets.components.server.details.sessions"))
			.isEqualTo(2);

		// Draining for shutdown: out of service, so that a load balancer stops sending upgrades.
		proxy.unfreeze();
		CompositeHealthContributor websockets = (CompositeHealthContributor) this.server.applicationContext()
			.getBean("websocketsHealthContributor");
		HealthIndicator serverHealth = (HealthIndicator) websockets.getContributor("server");
		registry.stop(() -> {
		});
		assertThat(serverHealth.health().getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
	}

	private ServerSessionRegistry start(String... properties) {
		TestWebSocketServer.Builder builder = TestWebSocketServer.builder()
			.resilientWsAutoConfiguration(true)
			.property("management.endpoints.web.exposure.include", "health,websockets")
			.property("management.endpoint.health.show-components", "always")
			.property("management.endpoint.health.show-details", "always");
		for (String property : properties) {
			String[] pair = property.split("=", 2);
			builder.property(pair[0], pair[1]);
		}
		this.server = builder.start();
		return this.server.applicationContext().getBean(ServerSessionRegistry.class);
	}

	private TcpProxy proxy() {
		TcpProxy proxy = TcpProxy.start(this.server.port());
		this.resources.add(proxy);
		return proxy;
	}

	private RawClient client(String url) {
		RawClient client = RawClient.connect(url);
		this.resources.add(client);
		return client;
	}

}
