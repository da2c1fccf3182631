package io.resilientws.cluster;

import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.stream.IntStream;

import io.resilientws.send.SendFailure;
import io.resilientws.send.SendResult;
import io.resilientws.send.UndeliveredMessageException;
import io.resilientws.server.BroadcastResult;
import io.resilientws.server.ClusterPublication;
import io.resilientws.server.ClusterView;
import io.resilientws.server.ManagedSession;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.SessionSelector;
import io.resilientws.testsupport.RawClient;
import io.resilientws.testsupport.RedisServer;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * Three instances of one application, each a real Tomcat with the starter in cluster mode, on one real
 * {@code redis-server}: every send method reaches the sessions of every instance, once each, in order,
 * and only the instances that need a message for one session or user get it.
 */
class ClusterModeTest {

	private static final Duration WAIT = Duration.ofSeconds(20);

	private static RedisServer redis;

	private static final List<TestWebSocketServer> instances = new ArrayList<>();

	private final List<RawClient> clients = new ArrayList<>();

	@BeforeAll
	static void startCluster() {
		redis = RedisServer.start();
		for (int i = 1; i <= 3; i++) {
			instances.add(clusterInstance(redis.port(), "node-" + i, "resilient-ws.server.max-sessions-per-principal=2"));
		}
		awaitFullView();
	}

	@AfterAll
	static void stopCluster() {
		instances.forEach(TestWebSocketServer::close);
		if (redis != null) {
			redis.close();
		}
	}

	@AfterEach
	void closeClients() {
		this.clients.forEach(RawClient::close);
		for (TestWebSocketServer instance : instances) {
			await().atMost(WAIT).until(() -> registry(instance).count() == 0);
		}
	}

	static TestWebSocketServer clusterInstance(int redisPort, String nodeId, String... properties) {
		return clusterInstanceBuilder(redisPort, nodeId, properties).start();
	}

	static TestWebSocketServer.Builder clusterInstanceBuilder(int redisPort, String nodeId, String... properties) {
		TestWebSocketServer.Builder builder = TestWebSocketServer.builder()
			.resilientWsAutoConfiguration(true)
			.property("spring.data.redis.host", "127.0.0.1")
			.property("spring.data.redis.port", Integer.toString(redisPort))
			.property("resilient-ws.cluster.enabled", "true")
			.property("resilient-ws.cluster.node-id", nodeId)
			.property("resilient-ws.cluster.heartbeat-interval", "200ms")
			.property("resilient-ws.cluster.node-timeout", "1s")
			.property("resilient-ws.cluster.request-timeout", "500ms");
		for (String property : properties) {
			String[] pair = property.split("=", 2);
			builder.property(pair[0], pair[1]);
		}
		return builder;
	}

	static ServerSessionRegistry registry(TestWebSocketServer instance) {
		return instance.applicationContext().getBean(ServerSessionRegistry.class);
	}

	static void awaitFullView() {
		for (TestWebSocketServer instance : instances) {
			await().atMost(WAIT).until(() -> {
				ClusterView view = registry(instance).clusterView();
				return view.status() == ClusterView.Status.UP && view.nodes().size() == 3;
			});
		}
	}

	@Test
	void aBroadcastFromOneInstanceReachesEverySessionOnEveryInstanceOnceInOrder() {
		List<RawClient> everywhere = new ArrayList<>();
		for (TestWebSocketServer instance : instances) {
			everywhere.add(connect(instance, ""));
			everywhere.add(connect(instance, ""));
		}
		awaitSubscribed();
		ServerSessionRegistry first = registry(instances.get(0));
		List<BroadcastResult> results = new ArrayList<>();
		for (int i = 0; i < 300; i++) {
			results.add((i % 2 == 0) ? first.broadcast("m" + i) : first.broadcast("m" + i, SessionSelector.endpoint("/ws")));
		}
		List<String> expected = IntStream.range(0, 300).mapToObj((i) -> "m" + i).toList();
		for (RawClient client : everywhere) {
			await().atMost(WAIT).until(() -> client.messages.size() >= 300);
		}
		for (RawClient client : everywhere) {
			assertThat(client.messages).containsExactlyElementsOf(expected);
		}
		assertThat(results).allSatisfy((result) -> {
			assertThat(result.accepted()).isEqualTo(2);
			assertThat(result.cluster().join()).isEqualTo(ClusterPublication.published(2));
		});
		awaitReceived(instances.get(1), 300);
	}

	@Test
	void aSelectorNoSessionMatchesDeliversNothingAnywhere() {
		RawClient remote = connect(instances.get(1), "user=carol");
		awaitSubscribed();
		ServerSessionRegistry first = registry(instances.get(0));
		first.broadcast("not for carol", SessionSelector.endpoint("/elsewhere")).cluster().join();
		first.broadcast("for carol", SessionSelector.endpoint("/ws").and(SessionSelector.principal("carol"))).cluster().join();
		await().atMost(WAIT).until(() -> !remote.messages.isEmpty());
		assertThat(remote.messages).containsExactly("for carol");
	}

	@Test
	void aSendToOneSessionReachesItOnAnotherInstance() {
		RawClient remote = connect(instances.get(2), "");
		String sessionId = onlySession(instances.get(2)).getId();
		awaitSubscribed();
		SendResult result = registry(instances.get(0)).send(sessionId, "just for you");
		assertThat(result.isAccepted()).isTrue();
		result.delivery().join();
		await().atMost(WAIT).until(() -> remote.messages.contains("just for you"));
		registry(instances.get(0)).send(sessionId, ByteBuffer.wrap(new byte[] { 1, 2, 3 })).delivery().join();
	}

	@Test
	void aSendToASessionNoInstanceHoldsFailsAsClosed() {
		SendResult result = registry(instances.get(0)).send("no-such-session", "lost?");
		UndeliveredMessageException failure = catchThrowableOfType(CompletionException.class,
				() -> result.delivery().join())
			.getCause() instanceof UndeliveredMessageException undelivered ? undelivered : null;
		assertThat(failure).isNotNull();
		assertThat(failure.getFailure()).isEqualTo(SendFailure.CLOSED);
	}

	@Test
	void aMessageForOneUserReachesTheirSessionsOnEveryInstanceAndOnlyTheInstancesHoldingThem() {
		RawClient aliceOnSecond = connect(instances.get(1), "user=alice");
		RawClient aliceOnThird = connect(instances.get(2), "user=alice");
		RawClient bobOnFirst = connect(instances.get(0), "user=bob");
		awaitSubscribed();
		long receivedByFirst = received(instances.get(0));
		BroadcastResult result = registry(instances.get(1)).sendToPrincipal("alice", "hi alice");
		assertThat(result.accepted()).isEqualTo(1);
		assertThat(result.cluster().join()).isEqualTo(ClusterPublication.published(1));
		await().atMost(WAIT).until(() -> aliceOnThird.messages.contains("hi alice"));
		// Written to the local session on another thread: not necessarily before the copy through Redis.
		await().atMost(WAIT).untilAsserted(() -> assertThat(aliceOnSecond.messages).containsExactly("hi alice"));
		assertThat(bobOnFirst.messages).isEmpty();
		// The instance holding no session of alice's never saw the message.
		assertThat(received(instances.get(0))).isEqualTo(receivedByFirst);
	}

	@Test
	void maxSessionsPerPrincipalCountsTheUsersSessionsOnEveryInstance() {
		connect(instances.get(0), "user=dave");
		connect(instances.get(1), "user=dave");
		await().atMost(WAIT).until(() -> registry(instances.get(2)).clusterView().sessions() == 2);
		WebSocketHandshakeException refused = catchThrowableOfType(WebSocketHandshakeException.class,
				() -> connectOrThrow(instances.get(2), "user=dave"));
		HttpResponse<?> response = refused.getResponse();
		assertThat(response.statusCode()).isEqualTo(503);
		assertThat(response.headers().firstValue("X-Resilient-Ws-Refused")).contains("principal-limit");
		// Another user is not affected.
		connect(instances.get(2), "user=erin");
	}

	@Test
	void theViewShowsEveryInstanceWithItsSessions() {
		connect(instances.get(1), "");
		connect(instances.get(1), "");
		connect(instances.get(2), "");
		await().atMost(WAIT).untilAsserted(() -> {
			ClusterView view = registry(instances.get(0)).clusterView();
			assertThat(view.nodeId()).isEqualTo("node-1");
			assertThat(view.nodes()).extracting(ClusterView.Node::nodeId).containsExactly("node-1", "node-2", "node-3");
			assertThat(view.nodes()).extracting(ClusterView.Node::sessions).containsExactly(0, 2, 1);
			assertThat(view.nodes()).extracting(ClusterView.Node::self).containsExactly(true, false, false);
		});
	}

	// ---- helpers ----

	private RawClient connect(TestWebSocketServer instance, String query) {
		int before = registry(instance).count();
		RawClient client = RawClient.connect(url(instance, query));
		this.clients.add(client);
		// The client's handshake completes a moment before the instance registers the session: a
		// message sent in that moment finds no session there, and awaitSubscribed sees none to wait for.
		await().atMost(WAIT).until(() -> registry(instance).count() > before);
		return client;
	}

	private void connectOrThrow(TestWebSocketServer instance, String query) throws Throwable {
		try {
			connect(instance, query);
		}
		catch (CompletionException ex) {
			throw ex.getCause();
		}
		catch (RuntimeException ex) {
			throw (ex.getCause() instanceof CompletionException completion) ? completion.getCause() : ex;
		}
	}

	private static String url(TestWebSocketServer instance, String query) {
		return instance.url() + (query.isEmpty() ? "" : "?" + query);
	}

	private static ManagedSession onlySession(TestWebSocketServer instance) {
		await().atMost(WAIT).until(() -> registry(instance).count() == 1);
		return registry(instance).sessions().iterator().next();
	}

	/** Waits until every session's channel has its subscriber (a new session subscribes asynchronously). */
	private static void awaitSubscribed() {
		for (TestWebSocketServer instance : instances) {
			for (ManagedSession session : registry(instance).sessions()) {
				await().atMost(WAIT).until(() -> redis.subscribers("resilient-ws:ch:session:" + session.getId()) == 1);
				session.principalName()
					.ifPresent((user) -> await().atMost(WAIT)
						.until(() -> redis.subscribers("resilient-ws:ch:user:" + user) >= 1));
			}
		}
	}

	private static long received(TestWebSocketServer instance) {
		ClusterStatistics statistics = instance.applicationContext().getBean(RedisFanout.class).statistics();
		long total = 0;
		for (ClusterStatistics.Target target : ClusterStatistics.Target.values()) {
			total += statistics.received(target);
		}
		return total;
	}

	private static void awaitReceived(TestWebSocketServer instance, long atLeast) {
		await().atMost(WAIT).until(() -> received(instance) >= atLeast);
	}

}
