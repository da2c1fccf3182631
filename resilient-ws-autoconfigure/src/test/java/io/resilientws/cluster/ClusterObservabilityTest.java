package io.resilientws.cluster;

import java.util.List;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.JsonPath;
import io.micrometer.core.instrument.MeterRegistry;
import io.resilientws.testsupport.Closer;
import io.resilientws.testsupport.Http;
import io.resilientws.testsupport.RawClient;
import io.resilientws.testsupport.RedisServer;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What cluster mode shows, on two real instances and a real {@code redis-server}: the {@code cluster}
 * part of {@code /actuator/websockets} and of the {@code websockets} health (LOCAL_ONLY, not DOWN, while
 * Redis is gone), and the {@code resilientws.cluster.*} meters.
 */
class ClusterObservabilityTest {

	private final Closer resources = new Closer();

	@AfterEach
	void closeAll() throws Exception {
		this.resources.close();
	}

	@Test
	void theEndpointTheHealthAndTheMetersShowTheCluster() {
		RedisServer redis = RedisServer.start();
		this.resources.add(redis);
		TestWebSocketServer first = instance(redis, "alpha");
		TestWebSocketServer second = instance(redis, "beta");
		RawClient client = RawClient.connect(second.url());
		this.resources.add(client);
		await().untilAsserted(() -> {
			String json = Http.get(first.port(), "/actuator/websockets").body();
			assertThat((String) JsonPath.read(json, "$.cluster.nodeId")).isEqualTo("alpha");
			assertThat((String) JsonPath.read(json, "$.cluster.status")).isEqualTo("UP");
			assertThat((List<String>) JsonPath.read(json, "$.cluster.nodes[*].nodeId")).containsExactly("alpha", "beta");
			assertThat((List<Boolean>) JsonPath.read(json, "$.cluster.nodes[*].self")).containsExactly(true, false);
			assertThat((List<Integer>) JsonPath.read(json, "$.cluster.nodes[*].sessions")).containsExactly(0, 1);
			assertThat((Integer) JsonPath.read(json, "$.cluster.nodes[1].sessionsPerEndpoint['/ws']")).isEqualTo(1);
			assertThat((String) JsonPath.read(json, "$.cluster.nodes[1].lastSeen")).isNotBlank();
			assertThat((Integer) JsonPath.read(json, "$.cluster.sessions")).isEqualTo(1);
		});
		String health = Http.get(first.port(), "/actuator/health").body();
		assertThat((String) JsonPath.read(health, "$.components.websockets.components.cluster.status")).isEqualTo("UP");
		assertThat((Integer) JsonPath.read(health, "$.components.websockets.components.cluster.details.nodes.beta"))
			.isEqualTo(1);

		await().until(() -> redis.subscribers("resilient-ws:ch:all") == 2);
		ClusterModeTest.registry(first).broadcast("counted").cluster().join();
		await().until(() -> client.messages.contains("counted"));
		MeterRegistry firstMeters = first.applicationContext().getBean(MeterRegistry.class);
		MeterRegistry secondMeters = second.applicationContext().getBean(MeterRegistry.class);
		assertThat(firstMeters.get("resilientws.cluster.nodes").gauge().value()).isEqualTo(2);
		assertThat(firstMeters.get("resilientws.cluster.messages.published").tag("target", "broadcast").functionCounter().count())
			.isEqualTo(1);
		assertThat(secondMeters.get("resilientws.cluster.messages.received").tag("target", "broadcast").functionCounter().count())
			.isEqualTo(1);
		assertThat(secondMeters.get("resilientws.cluster.delivery.latency").timer().count()).isEqualTo(1);
		assertThat(secondMeters.get("resilientws.cluster.delivery.latency").timer().totalTime(TimeUnit.SECONDS))
			.isLessThan(5);

		redis.kill();
		await().untilAsserted(() -> {
			String down = Http.get(first.port(), "/actuator/health").body();
			assertThat((String) JsonPath.read(down, "$.components.websockets.components.cluster.status"))
				.isEqualTo("LOCAL_ONLY");
			// Not a failure of the instance: it still serves its own sessions.
			assertThat((String) JsonPath.read(down, "$.components.websockets.status")).isNotEqualTo("DOWN");
		});
		ClusterModeTest.registry(first).broadcast("not published").cluster().join();
		assertThat(firstMeters.get("resilientws.cluster.messages.failed").tag("target", "broadcast").functionCounter().count())
			.isEqualTo(1);
		assertThat((String) JsonPath.read(Http.get(first.port(), "/actuator/websockets").body(), "$.cluster.status"))
			.isEqualTo("LOCAL_ONLY");
	}

	private TestWebSocketServer instance(RedisServer redis, String nodeId) {
		TestWebSocketServer instance = ClusterModeTest.clusterInstance(redis.port(), nodeId,
				"management.endpoints.web.exposure.include=health,websockets",
				"management.endpoint.health.show-components=always", "management.endpoint.health.show-details=always",
				"management.health.redis.enabled=false");
		this.resources.add(instance);
		return instance;
	}

}
