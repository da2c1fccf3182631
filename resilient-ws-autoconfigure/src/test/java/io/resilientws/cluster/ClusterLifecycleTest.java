package io.resilientws.cluster;

import java.time.Duration;

import io.resilientws.server.ClusterPublication;
import io.resilientws.server.ClusterView;
import io.resilientws.testsupport.Closer;
import io.resilientws.testsupport.RawClient;
import io.resilientws.testsupport.RedisServer;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An instance's life in the cluster on a real {@code redis-server}: it starts while Redis is down and
 * joins when Redis comes; it leaves the view as the first step of its shutdown drain, not a node timeout
 * later; and whatever else is published on its channels is refused and counted, never delivered.
 */
class ClusterLifecycleTest {

	private static final Duration WAIT = Duration.ofSeconds(30);

	private final Closer resources = new Closer();

	@AfterEach
	void closeAll() throws Exception {
		this.resources.close();
	}

	@Test
	void anInstanceStartedWhileRedisIsDownServesLocallyAndJoinsWhenRedisComes() {
		RedisServer redis = RedisServer.start();
		this.resources.add(redis);
		redis.kill();
		TestWebSocketServer instance = instance(redis, "early");
		RawClient client = connect(instance);
		await().atMost(WAIT).until(() -> ClusterModeTest.registry(instance).count() == 1);
		assertThat(ClusterModeTest.registry(instance).clusterView().status()).isEqualTo(ClusterView.Status.LOCAL_ONLY);
		assertThat(ClusterModeTest.registry(instance).broadcast("local").cluster().join().status())
			.isEqualTo(ClusterPublication.Status.NOT_PUBLISHED);
		await().atMost(WAIT).until(() -> client.messages.contains("local"));

		redis.restart();
		TestWebSocketServer other = instance(redis, "late");
		await().atMost(WAIT).until(() -> ClusterModeTest.registry(instance).clusterView().status() == ClusterView.Status.UP
				&& ClusterModeTest.registry(instance).clusterView().nodes().size() == 2);
		await().atMost(WAIT).until(() -> redis.subscribers("resilient-ws:ch:all") == 2);
		ClusterModeTest.registry(other).broadcast("from the other").cluster().join();
		await().atMost(WAIT).until(() -> client.messages.contains("from the other"));
	}

	@Test
	void anInstanceIsInTheClusterAsSoonAsItHasStarted() {
		RedisServer redis = RedisServer.start();
		this.resources.add(redis);
		TestWebSocketServer instance = instance(redis, "prompt");
		// No wait: a resuming session accepted from now on must be journaled, which needs the instance UP.
		assertThat(ClusterModeTest.registry(instance).clusterView().status()).isEqualTo(ClusterView.Status.UP);
	}

	@Test
	void aStoppingInstanceLeavesTheViewFirstThingNotANodeTimeoutLater() {
		RedisServer redis = RedisServer.start();
		this.resources.add(redis);
		TestWebSocketServer staying = instance(redis, "staying", "resilient-ws.cluster.node-timeout=60s");
		TestWebSocketServer leaving = instance(redis, "leaving", "resilient-ws.cluster.node-timeout=60s");
		await().atMost(WAIT).until(() -> ClusterModeTest.registry(staying).clusterView().nodes().size() == 2);
		leaving.close();
		assertThat(redis.command("EXISTS", "resilient-ws:node:leaving")).isEqualTo("0");
		await().atMost(Duration.ofSeconds(10))
			.until(() -> ClusterModeTest.registry(staying).clusterView().nodes().size() == 1);
	}

	@Test
	void whateverElseIsPublishedOnAClusterChannelIsCountedAndDeliveredToNobody() {
		RedisServer redis = RedisServer.start();
		this.resources.add(redis);
		TestWebSocketServer instance = instance(redis, "target");
		RawClient client = connect(instance);
		await().atMost(WAIT).until(() -> redis.subscribers("resilient-ws:ch:all") == 1);
		assertThat(redis.command("PUBLISH", "resilient-ws:ch:all", "hello from anyone")).isEqualTo("1");
		RedisFanout fanout = instance.applicationContext().getBean(RedisFanout.class);
		await().atMost(WAIT).until(() -> fanout.statistics().invalidReceived() == 1);
		ClusterModeTest.registry(instance).broadcast("real").cluster().join();
		await().atMost(WAIT).until(() -> client.messages.contains("real"));
		assertThat(client.messages).containsExactly("real");
	}

	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void twoLiveInstancesWithOneNodeIdServeTheirOwnSessionsOnlyAndSayWhichPropertyToFix(CapturedOutput output) {
		RedisServer redis = RedisServer.start();
		this.resources.add(redis);
		TestWebSocketServer first = instance(redis, "twin");
		await().atMost(WAIT).until(() -> ClusterModeTest.registry(first).clusterView().status() == ClusterView.Status.UP);
		TestWebSocketServer second = instance(redis, "twin");
		await().atMost(WAIT).until(() -> ClusterModeTest.registry(first).clusterView().status() == ClusterView.Status.LOCAL_ONLY
				&& ClusterModeTest.registry(second).clusterView().status() == ClusterView.Status.LOCAL_ONLY);
		assertThat(output.getOut()).contains("Cluster node id 'twin' is in use by another live instance")
			.contains("resilient-ws.cluster.node-id");
		// Said once per instance while it lasts, not on every beat.
		await().during(Duration.ofSeconds(1)).atMost(WAIT)
			.until(() -> ClusterModeTest.registry(first).clusterView().status() == ClusterView.Status.LOCAL_ONLY);
		assertThat(output.getOut().split("is in use by another live instance", -1)).hasSize(3);
		second.close();
		await().atMost(WAIT).until(() -> ClusterModeTest.registry(first).clusterView().status() == ClusterView.Status.UP);
	}

	@Test
	void aProcessRestartedWithTheIdOfAKilledOneJoinsAtOnce() {
		RedisServer redis = RedisServer.start();
		this.resources.add(redis);
		TestWebSocketServer staying = instance(redis, "staying");
		// What a killed process leaves: its owner mark, still unexpired.
		assertThat(redis.command("SET", "resilient-ws:node:reborn:owner", "a-killed-process", "PX", "60000")).isEqualTo("OK");
		TestWebSocketServer reborn = instance(redis, "reborn");
		await().atMost(WAIT).until(() -> ClusterModeTest.registry(staying).clusterView().nodes().size() == 2);
		await().during(Duration.ofSeconds(1)).atMost(WAIT)
			.until(() -> ClusterModeTest.registry(reborn).clusterView().status() == ClusterView.Status.UP);
	}

	private TestWebSocketServer instance(RedisServer redis, String nodeId, String... properties) {
		TestWebSocketServer instance = ClusterModeTest.clusterInstance(redis.port(), nodeId, properties);
		this.resources.add(instance);
		return instance;
	}

	private RawClient connect(TestWebSocketServer instance) {
		int before = ClusterModeTest.registry(instance).count();
		RawClient client = RawClient.connect(instance.url());
		this.resources.add(client);
		// As in ClusterModeTest: the handshake completes a moment before the session is registered.
		await().atMost(WAIT).until(() -> ClusterModeTest.registry(instance).count() > before);
		return client;
	}

}
