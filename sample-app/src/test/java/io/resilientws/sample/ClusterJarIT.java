package io.resilientws.sample;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import io.resilientws.testsupport.Closer;
import io.resilientws.testsupport.RedisServer;
import io.resilientws.testsupport.ResumeProtocolClient;
import io.resilientws.testsupport.TcpProxy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The README's cluster run with three separate JVMs: three {@code java -jar sample-app-*.jar
 * --spring.profiles.active=cluster} on one real {@code redis-server} of the test's own. Separate
 * processes, so that one can be SIGKILLed (no shutdown hook, no goodbye to Redis) and Redis can be
 * killed and restarted under running instances.
 */
class ClusterJarIT {

	private static final Duration HEARTBEAT = Duration.ofMillis(500);

	private static final Duration NODE_TIMEOUT = Duration.ofSeconds(3);

	private static final Pattern COUNT = Pattern.compile("\"statistic\":\"COUNT\",\"value\":([0-9.]+)");

	private final Closer closer = new Closer();

	private RedisServer redis;

	private final List<SampleJar> instances = new ArrayList<>();

	@BeforeEach
	void startRedisAndThreeInstances() {
		this.redis = this.closer.add(RedisServer.start());
		List<CompletableFuture<SampleJar>> starting = IntStream.rangeClosed(1, 3)
			.mapToObj((n) -> CompletableFuture.supplyAsync(() -> SampleJar.start("--spring.profiles.active=cluster",
					"--spring.data.redis.host=127.0.0.1", "--spring.data.redis.port=" + this.redis.port(),
					"--resilient-ws.cluster.node-id=node-" + n,
					"--resilient-ws.cluster.heartbeat-interval=" + HEARTBEAT.toMillis() + "ms",
					"--resilient-ws.cluster.node-timeout=" + NODE_TIMEOUT.toMillis() + "ms",
					"--resilient-ws.cluster.request-timeout=2s",
					"--resilient-ws.client.connections.ticker.auto-startup=false")))
			.toList();
		// Each that started is closed after the test, also when another did not start.
		RuntimeException notStarted = null;
		for (CompletableFuture<SampleJar> instance : starting) {
			try {
				this.instances.add(this.closer.add(instance.join()));
			}
			catch (RuntimeException ex) {
				notStarted = (notStarted != null) ? notStarted : ex;
			}
		}
		if (notStarted != null) {
			throw notStarted;
		}
		for (SampleJar instance : this.instances) {
			await().atMost(Duration.ofSeconds(20))
				.untilAsserted(() -> assertThat(instance.get("/instance")).contains("\"cluster\":\"UP\"")
					.contains("\"instances\":3"));
		}
	}

	@AfterEach
	void stopEverything() throws Exception {
		this.closer.close();
	}

	@Test
	void aChatMessageReachesEveryPageOnEveryInstanceOnceAndInOrder() throws Exception {
		ChatPeer alice = this.closer.add(ChatPeer.connect(instance(1).port()));
		ChatPeer dave = this.closer.add(ChatPeer.connect(instance(1).port()));
		ChatPeer bob = this.closer.add(ChatPeer.connect(instance(2).port()));
		ChatPeer carol = this.closer.add(ChatPeer.connect(instance(3).port()));
		// A client's handshake completes a moment before its instance registers the session; a broadcast
		// in between is not for it. The heartbeats' reports say when all four are registered.
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(instance(1).get("/actuator/websockets")).contains("\"sessions\":4,\"nodes\""));

		List<String> sent = IntStream.range(0, 200).mapToObj((i) -> "message " + i).toList();
		sent.forEach(alice::send);
		// A last message after the others: a duplicate of any of them would arrive before it.
		alice.send("last");

		List<String> expected = new ArrayList<>(sent);
		expected.add("last");
		List<ChatPeer> peers = List.of(alice, dave, bob, carol);
		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(() -> assertThat(peers.stream().map(ChatPeer::received).toList())
				.as("messages received by alice and dave (node-1), bob (node-2), carol (node-3)")
				.allMatch((count) -> count >= expected.size()));
		for (ChatPeer peer : peers) {
			assertThat(peer.drain()).as("what one page received, in order").containsExactlyElementsOf(expected);
		}
	}

	@Test
	void aSigkilledInstanceLeavesTheViewWithinTheNodeTimeout() throws Exception {
		ChatPeer alice = this.closer.add(ChatPeer.connect(instance(1).port()));
		ChatPeer bob = this.closer.add(ChatPeer.connect(instance(2).port()));
		this.closer.add(ChatPeer.connect(instance(3).port()));
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(instance(1).get("/actuator/websockets")).contains("\"node-3\""));

		instance(3).kill();
		long killed = System.nanoTime();

		// The dead node's report expires (its TTL is the node timeout minus one heartbeat, counted from its
		// last beat), and the others see that at their next beat: at most the node timeout plus one heartbeat.
		// The second of slack is for this test's polling and a loaded machine.
		Duration limit = NODE_TIMEOUT.plus(HEARTBEAT).plusSeconds(1);
		await().atMost(limit)
			.pollInterval(Duration.ofMillis(50))
			.untilAsserted(() -> assertThat(instance(1).get("/actuator/websockets")).doesNotContain("\"node-3\""));
		Duration gone = Duration.ofNanos(System.nanoTime() - killed);
		System.out.println("node-3 left node-1's view " + gone.toMillis() + " ms after SIGKILL");
		await().atMost(limit)
			.untilAsserted(() -> assertThat(instance(2).get("/instance")).contains("\"instances\":2"));

		alice.send("after the crash");
		assertThat(bob.nextText()).isEqualTo("after the crash");
		assertThat(alice.nextText()).isEqualTo("after the crash");
	}

	@Test
	void withRedisKilledLocalPagesStillChatAndAfterItsRestartTheInstancesFindEachOtherAgain() throws Exception {
		ChatPeer alice = this.closer.add(ChatPeer.connect(instance(1).port()));
		ChatPeer dave = this.closer.add(ChatPeer.connect(instance(1).port()));
		ChatPeer bob = this.closer.add(ChatPeer.connect(instance(2).port()));

		this.redis.kill();
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(instance(1).get("/instance")).contains("\"cluster\":\"LOCAL_ONLY\""));
		assertThat(instance(1).get("/actuator/health")).contains("LOCAL_ONLY");

		alice.send("while Redis is down");
		assertThat(dave.nextText()).isEqualTo("while Redis is down");
		// The remote part was not published, and the meter says so.
		await().atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(count(instance(1), "resilientws.cluster.messages.failed")).isPositive());

		// The same port, its data gone: nobody is restarted, every instance re-registers and resubscribes.
		this.redis.restart();
		for (SampleJar instance : this.instances) {
			await().atMost(Duration.ofSeconds(20))
				.untilAsserted(() -> assertThat(instance.get("/instance")).contains("\"cluster\":\"UP\"")
					.contains("\"instances\":3"));
		}
		alice.send("Redis is back");
		assertThat(bob.nextText()).isEqualTo("Redis is back");
		assertThat(dave.nextText()).isEqualTo("Redis is back");
	}

	@Test
	void aResumingPageWhoseInstanceIsSigkilledMidStreamResumesOnAnotherWithNothingLost() throws Exception {
		TcpProxy balancer = this.closer.add(TcpProxy.start(instance(1).port()));
		String chat = "ws://127.0.0.1:" + balancer.port() + "/chat";
		ResumeProtocolClient page = this.closer.add(ResumeProtocolClient.open(chat));
		// Someone on the third instance talks all along, also while no instance holds the page's session.
		ResumeProtocolClient bob = this.closer.add(ResumeProtocolClient.open("ws://127.0.0.1:" + instance(3).port() + "/chat"));
		List<String> bobSaid = new CopyOnWriteArrayList<>();
		ScheduledExecutorService bobTalks = Executors.newSingleThreadScheduledExecutor();
		bobTalks.scheduleAtFixedRate(() -> {
			String line = "bob " + bobSaid.size();
			bob.send(line);
			bobSaid.add(line);
		}, 0, 20, TimeUnit.MILLISECONDS);
		List<String> said = IntStream.range(0, 2000).mapToObj((i) -> "said " + i).toList();
		try {
			for (int i = 0; i < said.size(); i++) {
				page.send(said.get(i));
				if (i == 700) {
					// What the page said so far comes back to it through its instance, which dies now: no
					// drain, no goodbye to Redis. The balancer sends the page's next connection to the second.
					await().atMost(Duration.ofSeconds(10)).until(() -> page.received.size() >= 300);
					instance(1).kill();
					balancer.retarget(instance(2).port());
					await().atMost(Duration.ofSeconds(10)).until(() -> !page.closeCodes.isEmpty());
					// The second instance takes the session over once the first has left its view (the node
					// timeout); until then it asks the page to try again.
					await().atMost(NODE_TIMEOUT.plusSeconds(20)).pollInterval(Duration.ofMillis(200))
						.until(() -> resumed(page, chat));
				}
			}
		}
		finally {
			bobTalks.shutdown();
			assertThat(bobTalks.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
		}
		String bobLast = bobSaid.get(bobSaid.size() - 1);
		await().atMost(Duration.ofSeconds(30))
			.until(() -> page.received.containsAll(List.of(said.get(said.size() - 1), bobLast)));
		assertThat(page.received).as("what the page said, back from the chat: all of it, once each, in order")
			.filteredOn((line) -> line.startsWith("said ")).containsExactlyElementsOf(said);
		assertThat(page.received).as("what bob said on the third instance, the seconds without a holder included: "
				+ "all of it, once each, in order").filteredOn((line) -> line.startsWith("bob ")).containsExactlyElementsOf(bobSaid);
		assertThat(page.answers).hasSize(2);
		assertThat(page.answers.get(1).recovered()).as("the resume on the second instance recovered the session").isTrue();
	}

	private static boolean resumed(ResumeProtocolClient page, String url) {
		try {
			return page.attemptResume(url).orTimeout(5, TimeUnit.SECONDS).join().recovered();
		}
		catch (RuntimeException ex) {
			return false;
		}
	}

	private SampleJar instance(int n) {
		return this.instances.get(n - 1);
	}

	private static double count(SampleJar instance, String meter) {
		Matcher matcher = COUNT.matcher(instance.get("/actuator/metrics/" + meter));
		return matcher.find() ? Double.parseDouble(matcher.group(1)) : 0;
	}

}
