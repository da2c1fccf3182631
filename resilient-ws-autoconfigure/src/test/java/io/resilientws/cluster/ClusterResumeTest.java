package io.resilientws.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import io.resilientws.resume.ResumeFrame;
import io.resilientws.server.ManagedSession;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.testsupport.Closer;
import io.resilientws.testsupport.RedisServer;
import io.resilientws.testsupport.ResumeProtocolClient;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Session resume across the instances of a cluster (docs/RESUME-PROTOCOL.md §7): real Tomcats in
 * cluster mode on a real {@code redis-server}, a client that speaks the protocol through a TCP proxy
 * that a load balancer's place, and handlers that echo what they receive. A rolling restart drains one
 * instance after the other under a steady stream in both directions.
 */
class ClusterResumeTest {

	private static final Duration WAIT = Duration.ofSeconds(30);

	private final Closer closer = new Closer();

	private final List<TestWebSocketServer> stopped = new ArrayList<>();

	@AfterEach
	void closeAll() throws Exception {
		this.closer.close();
	}

	@Test
	void aRollingRestartUnderAStreamLosesNothingAndDeliversNothingTwice() {
		RedisServer redis = this.closer.add(RedisServer.start());
		TestWebSocketServer first = this.closer.add(instance(redis, "node-a"));
		TestWebSocketServer second = this.closer.add(instance(redis, "node-b"));
		awaitView(first, 2);
		TcpProxy balancer = this.closer.add(TcpProxy.start(first.port()));
		ResumeProtocolClient client = this.closer.add(ResumeProtocolClient.open(url(balancer)));
		String sessionId = onlySession(first).getId();

		List<String> toServer = IntStream.range(0, 3000).mapToObj((i) -> "c-" + i).toList();
		TestWebSocketServer restarted = null;
		for (int i = 0; i < toServer.size(); i++) {
			client.send(toServer.get(i));
			if (i == 1000) {
				// The first instance restarts: its session goes to the second, where the balancer sends the client.
				balancer.retarget(second.port());
				drainAndResume(first, client, balancer);
				assertThat(onlySession(second).getId()).as("the same session, on the second instance").isEqualTo(sessionId);
				assertThat(onlySession(second).isTakenOver()).isTrue();
				restarted = this.closer.add(instance(redis, "node-a"));
				awaitView(restarted, 2);
			}
			if (i == 2000) {
				// Then the second: the session comes back to the first one's successor.
				balancer.retarget(restarted.port());
				drainAndResume(second, client, balancer);
				assertThat(onlySession(restarted).getId()).isEqualTo(sessionId);
			}
		}
		await().atMost(WAIT).until(() -> echoes(client).size() >= toServer.size());
		assertThat(echoes(client)).as("the handlers' echoes at the client: each once, in order").isEqualTo(toServer);
		List<String> handled = new ArrayList<>();
		handled.addAll(first.received());
		handled.addAll(second.received());
		handled.addAll(restarted.received());
		assertThat(handled).as("the client's messages at the three instances' handlers: each once, in order")
			.isEqualTo(toServer);
		assertThat(client.answers).as("two resumes, both recovered").hasSize(3)
			.allSatisfy((answer) -> assertThat(answer.reason()).isNull());
		assertThat(client.answers.subList(1, 3)).allMatch(ResumeFrame.Session::recovered);
	}

	private void drainAndResume(TestWebSocketServer draining, ResumeProtocolClient client, TcpProxy balancer) {
		CompletableFuture<Void> stopping = CompletableFuture.runAsync(draining::stop);
		await().atMost(WAIT).until(() -> !client.closeCodes.isEmpty() && client.closeCodes.size() >= this.stopped.size() + 1);
		this.stopped.add(draining);
		// A load balancer's client retries until an instance answers; one still handing the session over
		// asks it to try again (1013), and the stopping instance no longer accepts.
		await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> tryResume(client, url(balancer)));
		stopping.join();
	}

	private static boolean tryResume(ResumeProtocolClient client, String url) {
		try {
			client.attemptResume(url).orTimeout(3, TimeUnit.SECONDS).join();
			return true;
		}
		catch (CompletionException | IllegalStateException ex) {
			return false;
		}
	}

	private static TestWebSocketServer instance(RedisServer redis, String nodeId) {
		return ClusterModeTest.clusterInstance(redis.port(), nodeId, "resilient-ws.server.resume.enabled=true",
				"resilient-ws.server.shutdown.drain-period=100ms", "resilient-ws.server.shutdown.timeout=5s");
	}

	private static void awaitView(TestWebSocketServer instance, int nodes) {
		await().atMost(WAIT).until(() -> registry(instance).clusterView().nodes().size() == nodes);
	}

	private static ServerSessionRegistry registry(TestWebSocketServer instance) {
		return ClusterModeTest.registry(instance);
	}

	private static ManagedSession onlySession(TestWebSocketServer instance) {
		await().atMost(WAIT).until(() -> registry(instance).sessions().size() == 1);
		return registry(instance).sessions().iterator().next();
	}

	private static String url(TcpProxy proxy) {
		return "ws://127.0.0.1:" + proxy.port() + TestWebSocketServer.PATH;
	}

	private static List<String> echoes(ResumeProtocolClient client) {
		return client.received.stream().filter((text) -> text.startsWith("c-")).toList();
	}

}
