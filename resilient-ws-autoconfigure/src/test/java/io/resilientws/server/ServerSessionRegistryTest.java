package io.resilientws.server;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import io.resilientws.testsupport.NonReadingClient;
import io.resilientws.testsupport.RawClient;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.web.socket.PingMessage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * The server registry in a real application on embedded Tomcat, with the starter's auto-configuration
 * wrapping a plain Spring handler, and real JDK clients over sockets (through a TCP proxy where a
 * client must stop answering or reading).
 */
class ServerSessionRegistryTest {

	private static final Duration WAIT = Duration.ofSeconds(15);

	private final List<AutoCloseable> resources = new ArrayList<>();

	private final List<SessionEvent> events = new CopyOnWriteArrayList<>();

	private TestWebSocketServer server;

	private ServerSessionRegistry registry;

	@AfterEach
	void closeAll() throws Exception {
		for (AutoCloseable resource : this.resources) {
			resource.close();
		}
		if (this.server != null) {
			this.server.close();
		}
	}

	@Test
	void everySessionIsTrackedAndABroadcastReachesThemAll() {
		start();
		List<RawClient> clients = IntStream.range(0, 3).mapToObj((i) -> client(this.server.url())).toList();
		await().atMost(WAIT).until(() -> this.registry.count() == 3);
		assertThat(this.registry.findByEndpoint("/ws")).hasSize(3);
		assertThat(this.registry.findByEndpoint("/other")).isEmpty();
		BroadcastResult result = this.registry.broadcast("to everyone");
		assertThat(result.accepted()).isEqualTo(3);
		assertThat(result.rejected()).isZero();
		assertThat(result.cluster().join()).isEqualTo(ClusterPublication.singleInstance());
		clients.forEach((client) -> await().atMost(WAIT).until(() -> client.messages.contains("to everyone")));
		ManagedSession one = this.registry.sessions().iterator().next();
		assertThat(this.registry.send(one.getId(), "just you").delivery()).succeedsWithin(WAIT);
		await().atMost(WAIT)
			.until(() -> clients.stream().filter((client) -> client.messages.contains("just you")).count() == 1);
		// Published just after the session is counted, on the thread that opened it.
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(this.events).filteredOn(SessionEvent.Opened.class::isInstance).hasSize(3));
		// The broadcast's copies carry no delivery futures; their writes are counted all the same.
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(this.registry.statistics()).singleElement()
				.satisfies((endpoint) -> assertThat(endpoint.messagesSent()).isEqualTo(4)));
	}

	@Test
	void theApplicationsHandlerGetsTheManagedSessionAndItsSendsAreBuffered() {
		start();
		RawClient client = client(this.server.url());
		client.send("echo me");
		// The test server's handler echoes with session.sendMessage: it went through the managed session.
		await().atMost(WAIT).until(() -> client.messages.contains("echo me"));
		// The write's completion frees its bytes, maybe after the client already has the echo.
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(this.registry.sessions()).singleElement()
				.satisfies((session) -> assertThat(session.bufferedAmount()).isZero()));
	}

	@Test
	void aCloseWhileBroadcastsGoOnClosesAfterTheBacklogNotAfterTheTimeLimit() {
		start("resilient-ws.server.send.time-limit=20s");
		RawClient one = client(this.server.url());
		RawClient other = client(this.server.url());
		await().atMost(WAIT).until(() -> this.registry.count() == 2);
		ManagedSession session = this.registry.sessions().iterator().next();
		ScheduledExecutorService broadcaster = Executors.newSingleThreadScheduledExecutor();
		AtomicLong ticks = new AtomicLong();
		// A busy endpoint: a broadcast every millisecond, for at most 20,000 of them.
		broadcaster.scheduleAtFixedRate(() -> {
			if (ticks.incrementAndGet() <= 20_000) {
				this.registry.broadcast("tick " + ticks.get());
			}
		}, 0, 1, TimeUnit.MILLISECONDS);
		try {
			await().atMost(WAIT).until(() -> !one.messages.isEmpty() && !other.messages.isEmpty());
			Instant closedAt = Instant.now();
			session.close();
			// The broadcasts after the close are refused for that session, so its backlog drains and the
			// close frame follows at once; before, the backlog never emptied and the close waited 20 s.
			await().atMost(Duration.ofSeconds(5)).until(() -> this.registry.count() == 1);
			assertThat(Duration.between(closedAt, Instant.now())).isLessThan(Duration.ofSeconds(5));
		}
		finally {
			broadcaster.shutdownNow();
		}
	}

	@Test
	void aClientThatStopsAnsweringPingsIsTerminatedWithinIntervalPlusTimeout() {
		start("resilient-ws.server.heartbeat.interval=300ms", "resilient-ws.server.heartbeat.timeout=300ms");
		TcpProxy proxy = proxy();
		RawClient healthy = client(this.server.url());
		client("ws://127.0.0.1:" + proxy.port() + "/ws");
		await().atMost(WAIT).until(() -> this.registry.count() == 2);
		Instant frozenAt = Instant.now();
		proxy.freeze();
		await().atMost(WAIT).until(() -> this.registry.count() == 1);
		// interval + timeout, plus scheduling slack on a busy 2-core machine
		assertThat(Duration.between(frozenAt, Instant.now())).isLessThan(Duration.ofMillis(600 + 1000));
		// The session leaves the registry first; then the Closed event, then the handler's afterConnectionClosed.
		await().atMost(WAIT).untilAsserted(() -> assertThat(closedEvents()).singleElement().satisfies((closed) -> {
			assertThat(closed.cause()).isEqualTo(CloseCause.HEARTBEAT_TIMEOUT);
			assertThat(closed.code()).isEqualTo(1006);
		}));
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(this.server.closeStatuses()).extracting((status) -> status.getCode())
				.containsExactly(1006));
		// The one that answers stays.
		await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() -> this.registry.count() == 1);
		assertThat(healthy.closeCode).isNotDone();
	}

	@Test
	void aClientThatStopsReadingIsHeldToTheBufferLimitAndTerminatedWhileTheOthersKeepUp() {
		start("resilient-ws.server.send.buffer-limit=256KB", "resilient-ws.server.send.overflow=terminate",
				"resilient-ws.server.heartbeat.enabled=false");
		TcpProxy proxy = proxy();
		List<RawClient> healthy = List.of(client(this.server.url()), client(this.server.url()));
		await().atMost(WAIT).until(() -> this.registry.count() == 2);
		List<ManagedSession> healthySessions = List.copyOf(this.registry.sessions());
		RawClient paused = client("ws://127.0.0.1:" + proxy.port() + "/ws");
		await().atMost(WAIT).until(() -> this.registry.count() == 3);
		proxy.freeze();
		String payload = "x".repeat(8 * 1024);
		long maxBuffered = 0;
		// More than the kernel holds for a peer that does not read (up to 32 MB of autotuned receive
		// buffer plus 4 MB of send buffer on Linux), so the paused session's own buffer must fill.
		int messages = 8000;
		for (int i = 0; i < messages; i++) {
			this.registry.broadcast(i + ":" + payload);
			for (ManagedSession session : this.registry.sessions()) {
				maxBuffered = Math.max(maxBuffered, session.bufferedAmount());
			}
			// Broadcast as fast as the healthy clients read (a real feed has a rate too); the paused
			// one never reads, so its buffer fills and the policy must deal with it.
			if (healthySessions.stream().anyMatch((session) -> session.bufferedAmount() > 128 * 1024)) {
				await().pollInterval(Duration.ofMillis(1))
					.atMost(WAIT)
					.until(() -> healthySessions.stream().allMatch((session) -> session.bufferedAmount() < 64 * 1024));
			}
		}
		assertThat(maxBuffered).isLessThanOrEqualTo(256 * 1024);
		healthy.forEach((client) -> await().atMost(WAIT).until(() -> client.messages.size() == messages));
		await().atMost(WAIT).until(() -> closedEvents().size() == 1);
		assertThat(closedEvents().get(0).cause()).isEqualTo(CloseCause.SLOW_CONSUMER);
		assertThat(this.events).filteredOn(SessionEvent.Overflow.class::isInstance).isNotEmpty();
		assertThat(healthy).allSatisfy((client) -> assertThat(client.closeCode).isNotDone());
		// It learns once it has read what its kernel buffers still hold (tens of MB): give it time.
		proxy.unfreeze();
		assertThat(paused.closeCode).succeedsWithin(Duration.ofSeconds(60)).isIn(1013, 1006);
	}

	@Test
	void dropNewestKeepsAPausedClientWithinItsLimitAndCountsWhatItDrops() {
		start("resilient-ws.server.send.buffer-limit=32KB", "resilient-ws.server.send.overflow=drop-newest",
				"resilient-ws.server.heartbeat.enabled=false");
		TcpProxy proxy = proxy();
		client("ws://127.0.0.1:" + proxy.port() + "/ws");
		await().atMost(WAIT).until(() -> this.registry.count() == 1);
		proxy.freeze();
		String payload = "y".repeat(4096);
		int rejected = 0;
		for (int i = 0; i < 3000; i++) {
			rejected += this.registry.broadcast(payload).rejected();
		}
		assertThat(rejected).isPositive();
		assertThat(this.registry.sessions()).singleElement()
			.satisfies((session) -> assertThat(session.bufferedAmount()).isLessThanOrEqualTo(32 * 1024));
		assertThat(this.events).filteredOn(SessionEvent.Undelivered.class::isInstance).hasSizeGreaterThanOrEqualTo(rejected);
		assertThat(this.registry.count()).isEqualTo(1);
	}

	@Test
	void anOversizeMessageClosesItsSessionWith1009() {
		start("resilient-ws.server.inbound.max-message-size=1KB");
		RawClient other = client(this.server.url());
		RawClient big = client(this.server.url());
		big.send("z".repeat(2048));
		assertThat(big.closeCode).succeedsWithin(WAIT).isEqualTo(1009);
		await().atMost(WAIT).until(() -> closedEvents().size() == 1);
		assertThat(closedEvents().get(0).cause()).isEqualTo(CloseCause.TOO_BIG);
		other.send("still fine");
		await().atMost(WAIT).until(() -> other.messages.contains("still fine"));
	}

	@Test
	void aFloodClosesItsSessionWith1008AndNobodyElseNotices() {
		start("resilient-ws.server.inbound.rate.messages-per-second=10", "resilient-ws.server.inbound.rate.burst=5");
		RawClient calm = client(this.server.url());
		RawClient flood = client(this.server.url());
		for (int i = 0; i < 50 && !flood.closeCode.isDone(); i++) {
			try {
				flood.send("flood " + i);
			}
			catch (CompletionException closedMeanwhile) {
				break;
			}
		}
		assertThat(flood.closeCode).succeedsWithin(WAIT).isEqualTo(1008);
		await().atMost(WAIT).until(() -> closedEvents().size() == 1);
		assertThat(closedEvents().get(0).cause()).isEqualTo(CloseCause.RATE_LIMITED);
		calm.send("hello");
		await().atMost(WAIT).until(() -> calm.messages.contains("hello"));
		// The burst got through; nothing after the limit was broken reached the handler.
		assertThat(this.server.received()).contains("flood 0").hasSizeLessThanOrEqualTo(7).doesNotContain("flood 10");
	}

	@Test
	void aClientThatSendsGarbageLosesItsOwnSessionWith1002() throws Exception {
		start();
		RawClient bystander = client(this.server.url());
		try (Socket socket = new Socket("127.0.0.1", this.server.port())) {
			socket.setSoTimeout(10_000);
			OutputStream out = socket.getOutputStream();
			out.write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
					+ "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
				.getBytes(StandardCharsets.US_ASCII));
			InputStream in = socket.getInputStream();
			String response = NonReadingClient.readHttpHead(in);
			assertThat(response).startsWith("HTTP/1.1 101");
			await().atMost(WAIT).until(() -> this.registry.count() == 2);
			// A masked frame with the reserved opcode 0x3: not WebSocket.
			out.write(new byte[] { (byte) 0x83, (byte) 0x80, 1, 2, 3, 4 });
			out.flush();
			int first = in.read();
			int length = in.read();
			int code = (in.read() << 8) | in.read();
			assertThat(first).as("a close frame").isEqualTo(0x88);
			assertThat(length).isGreaterThanOrEqualTo(2);
			assertThat(code).isEqualTo(1002);
		}
		await().atMost(WAIT).until(() -> closedEvents().size() == 1);
		assertThat(closedEvents().get(0).cause()).isEqualTo(CloseCause.ERROR);
		bystander.send("unaffected");
		await().atMost(WAIT).until(() -> bystander.messages.contains("unaffected"));
	}

	@Test
	void oneSessionOverTheLimitIsRefusedWith503AndRetryAfter() {
		start("resilient-ws.server.max-sessions=2", "resilient-ws.server.refused-retry-after=7s");
		RawClient first = client(this.server.url());
		client(this.server.url());
		assertThatExceptionOfType(CompletionException.class).isThrownBy(() -> RawClient.attempt(this.server.url()).join())
			.havingCause()
			.isInstanceOfSatisfying(WebSocketHandshakeException.class, (refused) -> {
				assertThat(refused.getResponse().statusCode()).isEqualTo(503);
				assertThat(refused.getResponse().headers().firstValue("Retry-After")).contains("7");
			});
		// A client's handshake completes a moment before the registry has its session (seen under load).
		await().atMost(WAIT).until(() -> this.registry.count() == 2);
		first.close();
		await().atMost(WAIT).until(() -> this.registry.count() == 1);
		assertThat(client(this.server.url())).isNotNull();
		await().atMost(WAIT).until(() -> this.registry.count() == 2);
	}

	@Test
	void theAppHeartbeatIsAnsweredAndNeverReachesTheHandler() {
		start();
		RawClient browserLike = client(this.server.url());
		browserLike.send("__rws_ping__");
		await().atMost(WAIT).until(() -> browserLike.messages.contains("__rws_pong__"));
		browserLike.send("after");
		await().atMost(WAIT).until(() -> browserLike.messages.contains("after"));
		assertThat(this.server.received()).containsExactly("after");
	}

	@Test
	void aClientFloodingAppPingsWithoutReadingHoldsOneAnswerAtATimeAndIsCutAsASlowConsumer() {
		start("resilient-ws.server.send.buffer-limit=16KB", "resilient-ws.server.send.time-limit=2s",
				"resilient-ws.server.heartbeat.enabled=false");
		RawClient bystander = client(this.server.url());
		await().atMost(WAIT).until(() -> this.registry.count() == 1);
		String bystanderId = this.registry.sessions().iterator().next().getId();
		NonReadingClient flooder = NonReadingClient.connect(this.server.port(), TestWebSocketServer.PATH);
		this.resources.add(flooder);
		await().atMost(WAIT).until(() -> this.registry.count() == 2);
		ManagedSession flooded = this.registry.sessions()
			.stream()
			.filter((session) -> !session.getId().equals(bystanderId))
			.findFirst()
			.orElseThrow();
		CompletableFuture<Long> flood = CompletableFuture
			.supplyAsync(() -> flooder.flood("__rws_ping__", Duration.ofSeconds(30), 20_000_000));
		AtomicLong maxBuffered = new AtomicLong();
		// Its answers stall in the socket at once; the write stuck for the time limit gets it cut.
		await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).until(() -> {
			maxBuffered.accumulateAndGet(flooded.bufferedAmount(), Math::max);
			return !closedEvents().isEmpty();
		});
		assertThat(closedEvents()).singleElement()
			.satisfies((closed) -> assertThat(closed.cause()).isEqualTo(CloseCause.SLOW_CONSUMER));
		// The answer being written and at most one waiting behind it, far below the buffer limit.
		assertThat(maxBuffered.get()).isLessThanOrEqualTo(2 * "__rws_pong__".length());
		assertThat(flood).as("the flood ends: the server dropped the connection").succeedsWithin(WAIT);
		bystander.send("unaffected");
		await().atMost(WAIT).until(() -> bystander.messages.contains("unaffected"));
	}

	@Test
	void pingFramesTheApplicationSendsToAStuckClientWaitOneAtATimeNotOneTaskEach() throws Exception {
		start("resilient-ws.server.send.buffer-limit=32MB", "resilient-ws.server.send.time-limit=1m",
				"resilient-ws.server.heartbeat.enabled=false");
		NonReadingClient stuck = NonReadingClient.connect(this.server.port(), TestWebSocketServer.PATH);
		this.resources.add(stuck);
		await().atMost(WAIT).until(() -> this.registry.count() == 1);
		ManagedSession session = this.registry.sessions().iterator().next();
		// More than the kernel buffers hold for a client with a 4 KiB receive window: the socket stays full.
		String payload = "d".repeat(64 * 1024);
		for (int i = 0; i < 160; i++) {
			assertThat(session.send(payload).isAccepted()).isTrue();
		}
		await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> session.bufferedAmount() > 0);
		ThreadPoolExecutor pool = (ThreadPoolExecutor) this.registry.pool();
		long tasksBefore = pool.getTaskCount();
		// A handler echoing every ping of a client that pings hard and never reads.
		for (int i = 0; i < 200; i++) {
			session.sendMessage(new PingMessage(ByteBuffer.wrap(new byte[] { (byte) i })));
		}
		await().during(Duration.ofMillis(500))
			.atMost(WAIT)
			.untilAsserted(() -> assertThat(pool.getTaskCount() - tasksBefore).as("pool tasks for 200 pings")
				.isLessThanOrEqualTo(1));
	}

	@Test
	void appPingsCountTowardTheInboundRateAndAFloodOfThemGets1008() {
		start("resilient-ws.server.inbound.rate.messages-per-second=10", "resilient-ws.server.inbound.rate.burst=5");
		RawClient calm = client(this.server.url());
		RawClient flood = client(this.server.url());
		for (int i = 0; i < 50 && !flood.closeCode.isDone(); i++) {
			try {
				flood.send("__rws_ping__");
			}
			catch (CompletionException closedMeanwhile) {
				break;
			}
		}
		assertThat(flood.closeCode).succeedsWithin(WAIT).isEqualTo(1008);
		await().atMost(WAIT).until(() -> closedEvents().size() == 1);
		assertThat(closedEvents().get(0).cause()).isEqualTo(CloseCause.RATE_LIMITED);
		// The burst was answered; the pings over the limit were not.
		assertThat(flood.messages).contains("__rws_pong__").hasSizeLessThanOrEqualTo(7);
		calm.send("hello");
		await().atMost(WAIT).until(() -> calm.messages.contains("hello"));
	}

	@Test
	void shutdownClosesEveryClientWith1001SpreadOverTheDrainPeriodAfterFlushingWhatWasBuffered() {
		start("resilient-ws.server.shutdown.drain-period=1s", "resilient-ws.server.heartbeat.enabled=false");
		List<RawClient> clients = IntStream.range(0, 20).mapToObj((i) -> client(this.server.url())).toList();
		await().atMost(WAIT).until(() -> this.registry.count() == 20);
		// Enough to be still buffered when the drain starts, little enough to flush well within the drain
		// period even on a busy machine (a close waits for its session's flush, which would bunch them up).
		String payload = "w".repeat(512);
		for (int i = 0; i < 100; i++) {
			assertThat(this.registry.broadcast(i + ":" + payload).accepted()).isEqualTo(20);
		}
		Instant stopAt = Instant.now();
		this.server.stop();
		for (RawClient client : clients) {
			assertThat(client.closeCode).succeedsWithin(WAIT).isEqualTo(1001);
			assertThat(client.messages).hasSize(100);
		}
		List<Instant> closedAt = clients.stream().map((client) -> client.closedAt).sorted().toList();
		Duration spread = Duration.between(closedAt.get(0), closedAt.get(closedAt.size() - 1));
		// 20 closes evenly spread over 1 s, each jittered within its slot: about 950 ms apart first to last.
		assertThat(spread).as("closes spread over the drain period").isGreaterThan(Duration.ofMillis(400));
		assertThat(Duration.between(stopAt, closedAt.get(closedAt.size() - 1))).isLessThan(Duration.ofSeconds(5));
	}

	private void start(String... properties) {
		TestWebSocketServer.Builder builder = TestWebSocketServer.builder().resilientWsAutoConfiguration(true);
		for (String property : properties) {
			String[] pair = property.split("=", 2);
			builder.property(pair[0], pair[1]);
		}
		this.server = builder.start();
		this.registry = this.server.applicationContext().getBean(ServerSessionRegistry.class);
		this.registry.addListener(this.events::add);
	}

	private RawClient client(String url) {
		RawClient client = RawClient.connect(url);
		this.resources.add(client);
		return client;
	}

	private TcpProxy proxy() {
		TcpProxy proxy = TcpProxy.start(this.server.port());
		this.resources.add(proxy);
		return proxy;
	}

	private List<SessionEvent.Closed> closedEvents() {
		return this.events.stream()
			.filter(SessionEvent.Closed.class::isInstance)
			.map(SessionEvent.Closed.class::cast)
			.toList();
	}

}
