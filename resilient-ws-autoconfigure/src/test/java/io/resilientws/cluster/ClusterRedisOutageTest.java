package io.resilientws.cluster;

import java.net.http.WebSocketHandshakeException;
import java.time.Duration;

import io.resilientws.server.BroadcastResult;
import io.resilientws.server.ClusterPublication;
import io.resilientws.server.ClusterView;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.testsupport.Closer;
import io.resilientws.testsupport.RawClient;
import io.resilientws.testsupport.RedisServer;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * A real {@code redis-server} killed under two running instances and started again on the same port,
 * with its data lost or kept: while it is down each instance goes on serving its own sessions and reports
 * every cross-instance part as not published; when it is back every instance subscribes, registers and
 * counts its users again by itself, with no restart (the failure Socket.IO's Redis adapter is known for).
 */
class ClusterRedisOutageTest {

	private static final Duration WAIT = Duration.ofSeconds(30);

	private final Closer resources = new Closer();

	@AfterEach
	void closeAll() throws Exception {
		this.resources.close();
	}

	@ParameterizedTest(name = "data kept over the restart: {0}")
	@ValueSource(booleans = { false, true })
	void redisDownAndBackEveryInstanceRecoversByItself(boolean persistent) {
		RedisServer redis = persistent ? RedisServer.startPersistent() : RedisServer.start();
		this.resources.add(redis);
		TestWebSocketServer first = instance(redis, "first");
		TestWebSocketServer second = instance(redis, "second");
		awaitStatus(ClusterView.Status.UP, 2, first, second);
		RawClient onFirst = connect(first, "user=frank");
		RawClient onSecond = connect(second, "user=grace");
		awaitSubscribed(redis, second);
		registry(first).broadcast("before").cluster().join();
		await().atMost(WAIT).until(() -> onSecond.messages.contains("before"));

		redis.kill();
		awaitStatus(ClusterView.Status.LOCAL_ONLY, 2, first, second);
		BroadcastResult during = registry(first).broadcast("during");
		assertThat(during.accepted()).isEqualTo(1);
		ClusterPublication notPublished = during.cluster().join();
		assertThat(notPublished.status()).isEqualTo(ClusterPublication.Status.NOT_PUBLISHED);
		assertThat(notPublished.reason()).contains("Redis");
		await().atMost(WAIT).until(() -> onFirst.messages.contains("during"));
		assertThat(fanout(first).statistics().failed(ClusterStatistics.Target.BROADCAST)).isPositive();

		redis.restart();
		awaitStatus(ClusterView.Status.UP, 2, first, second);
		awaitSubscribed(redis, second);
		BroadcastResult after = registry(first).broadcast("after");
		assertThat(after.cluster().join()).isEqualTo(ClusterPublication.published(1));
		await().atMost(WAIT).until(() -> onSecond.messages.contains("after"));
		assertThat(onSecond.messages).containsExactly("before", "after");
		// Written to the local session on another thread: not necessarily before the copy through Redis.
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(onFirst.messages).containsExactly("before", "during", "after"));
		// grace's session on the second instance is counted again, even if Redis lost every key.
		Throwable refused = catchThrowable(() -> connect(first, "user=grace"));
		assertThat(handshakeFailure(refused).getResponse().statusCode()).isEqualTo(503);
	}

	private TestWebSocketServer instance(RedisServer redis, String nodeId) {
		TestWebSocketServer instance = ClusterModeTest.clusterInstance(redis.port(), nodeId,
				"resilient-ws.server.max-sessions-per-principal=1");
		this.resources.add(instance);
		return instance;
	}

	private RawClient connect(TestWebSocketServer instance, String query) {
		int before = registry(instance).count();
		RawClient client = RawClient.connect(instance.url() + "?" + query);
		this.resources.add(client);
		// As in ClusterModeTest: the handshake completes a moment before the session is registered.
		await().atMost(WAIT).until(() -> registry(instance).count() > before);
		return client;
	}

	private static ServerSessionRegistry registry(TestWebSocketServer instance) {
		return ClusterModeTest.registry(instance);
	}

	private static RedisFanout fanout(TestWebSocketServer instance) {
		return instance.applicationContext().getBean(RedisFanout.class);
	}

	private static void awaitStatus(ClusterView.Status status, int nodes, TestWebSocketServer... instances) {
		for (TestWebSocketServer instance : instances) {
			await().atMost(WAIT).until(() -> {
				ClusterView view = registry(instance).clusterView();
				return view.status() == status && view.nodes().size() == nodes;
			});
		}
	}

	private static void awaitSubscribed(RedisServer redis, TestWebSocketServer instance) {
		registry(instance).sessions()
			.forEach((session) -> await().atMost(WAIT)
				.until(() -> redis.subscribers("resilient-ws:ch:session:" + session.getId()) == 1));
	}

	private static WebSocketHandshakeException handshakeFailure(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof WebSocketHandshakeException handshake) {
				return handshake;
			}
		}
		throw new AssertionError("Not a refused handshake", failure);
	}

}
