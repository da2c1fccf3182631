package io.resilientws.client;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.resilientws.ResilientWsScheduler;
import io.resilientws.metrics.ClientConnectionMetrics;
import io.resilientws.send.SendResult;
import io.resilientws.testsupport.RecordingHandler;
import io.resilientws.testsupport.RetryAfterServer;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The managed client against a real Tomcat WebSocket server on a random port, through a TCP proxy
 * that injects real faults (cuts, freezes). Timers run on the real shared scheduler with short
 * settings; exact timing bounds are proven in {@link ManagedConnectionTimingTest} on a manual clock.
 */
class ManagedConnectionTest {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private TestWebSocketServer server;

	private TcpProxy proxy;

	private ResilientWsScheduler scheduler;

	private ConnectionRegistry registry;

	private final List<ConnectionEvent> events = new CopyOnWriteArrayList<>();

	private final RecordingHandler handler = new RecordingHandler();

	@BeforeEach
	void startServer() {
		this.server = TestWebSocketServer.builder().subprotocols("v2.chat", "v1.chat").start();
		this.proxy = TcpProxy.start(this.server.port());
		this.scheduler = ResilientWsScheduler.create();
		this.registry = new ConnectionRegistry(this.scheduler.taskScheduler(), (bundle) -> {
			throw new IllegalStateException("no TLS in this test");
		}, this.events::add, ConnectionSettings::builder, Duration.ofSeconds(5));
	}

	@AfterEach
	void stopAll() {
		this.registry.destroy();
		this.scheduler.destroy();
		this.proxy.close();
		this.server.close();
	}

	@Test
	void opensSendsAndReceivesWithSubprotocolAndHeaders() {
		ManagedConnection connection = open((settings) -> settings.subprotocols(List.of("v1.chat"))
			.header("Authorization", "Bearer secret-token"));
		assertThat(connection.protocol()).isEqualTo("v1.chat");
		assertThat(connection.readyState()).isEqualTo(1);
		assertThat(this.server.lastHandshakeHeaders().getFirst("Authorization")).isEqualTo("Bearer secret-token");
		SendResult result = connection.send("hello");
		assertThat(result.isAccepted()).isTrue();
		assertThat(result.delivery()).succeedsWithin(WAIT);
		await().atMost(WAIT).until(() -> this.handler.messages.contains("hello"));
		assertThat(connection.bufferedAmount()).isZero();
	}

	@Test
	void aHeaderSupplierIsAskedAgainForEveryAttempt() {
		AtomicInteger token = new AtomicInteger();
		ManagedConnection connection = open((settings) -> settings.header("Authorization", "Bearer fixed")
			.headerSupplier(() -> Map.of("Authorization", "Bearer rotated-" + token.incrementAndGet())));
		assertThat(this.server.lastHandshakeHeaders().getFirst("Authorization")).isEqualTo("Bearer rotated-1");
		assertThat(connection.reconnect()).isTrue();
		awaitOpens(2);
		assertThat(this.server.lastHandshakeHeaders().getFirst("Authorization")).isEqualTo("Bearer rotated-2");
	}

	@Test
	void aHeaderSupplierThatGivesAnInvalidValueFailsTheAttemptWithoutShowingIt() {
		ConnectionSettings settings = ConnectionSettings.builder()
			.url("ws://127.0.0.1:" + this.proxy.port() + "/ws")
			.reconnectEnabled(false)
			.headerSupplier(() -> Map.of("Authorization", "Bearer leaked-secret\n"))
			.build();
		ManagedConnection connection = this.registry.register("test", settings, this.handler);
		connection.start();
		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.CLOSED);
		assertThat(this.server.handshakeHeaders()).isEmpty();
		assertThat(connection.lastClose()).hasValueSatisfying((close) -> {
			assertThat(close.code()).isEqualTo(1006);
			assertThat(close.reason()).doesNotContain("leaked-secret");
		});
	}

	@Test
	void cutConnectionIsAbnormalAndReconnects() {
		ManagedConnection connection = open(UnaryOperator.identity());
		this.proxy.cutAll();
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		CloseEvent close = this.handler.closes.get(0);
		assertThat(close.code()).isEqualTo(1006);
		assertThat(close.initiator()).isEqualTo(CloseInitiator.ABNORMAL);
		assertThat(close.wasClean()).isFalse();
		assertThat(close.willReconnect()).isTrue();
		assertThat(close.nextAttempt()).isEqualTo(2);
		awaitOpens(2);
		assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
	}

	@Test
	void connectionEndedWithoutCloseFrameIsAbnormalAndReconnects() {
		ManagedConnection connection = open(UnaryOperator.identity());
		awaitServerSession();
		// A FIN without a close frame, which the JDK reports as onClose(1006) rather than onError.
		this.server.abortAll();
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		CloseEvent close = this.handler.closes.get(0);
		assertThat(close.code()).isEqualTo(1006);
		assertThat(close.initiator()).isEqualTo(CloseInitiator.ABNORMAL);
		assertThat(close.wasClean()).isFalse();
		assertThat(close.reason()).isEqualTo("connection closed without a close frame");
		assertThat(close.willReconnect()).isTrue();
		awaitOpens(2);
		assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
	}

	@Test
	void killedServerIsAbnormalAndTheClientComesBackWhenItReturns() {
		ManagedConnection connection = open(UnaryOperator.identity());
		this.server.stop();
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		assertThat(this.handler.closes.get(0).code()).isEqualTo(1006);
		assertThat(this.handler.closes.get(0).initiator()).isEqualTo(CloseInitiator.ABNORMAL);
		assertThat(this.handler.closes.get(0).wasClean()).isFalse();
		assertThat(this.handler.closes.get(0).willReconnect()).isTrue();
		await().atMost(WAIT).until(() -> this.handler.closes.size() >= 2);
		assertThat(this.handler.closes).allSatisfy((close) -> assertThat(close.willReconnect()).isTrue());
		this.server = TestWebSocketServer.start();
		this.proxy.retarget(this.server.port());
		awaitOpens(2);
		assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
	}

	@Test
	void frozenLinkIsDeclaredDeadByTheHeartbeatAndReconnects() {
		ManagedConnection connection = open((settings) -> settings.heartbeatInterval(Duration.ofMillis(300))
			.heartbeatTimeout(Duration.ofMillis(300)));
		long frozenAt = System.nanoTime();
		this.proxy.freeze();
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		Duration detection = Duration.ofNanos(System.nanoTime() - frozenAt);
		CloseEvent close = this.handler.closes.get(0);
		assertThat(close.code()).isEqualTo(1006);
		assertThat(close.reason()).startsWith("heartbeat: no pong within 300 ms");
		// interval + timeout, plus scheduling slack on a busy 2-core machine (the exact bound is proven
		// on a manual clock in ManagedConnectionTimingTest)
		assertThat(detection).isLessThan(Duration.ofMillis(600 + 1000));
		this.proxy.unfreeze();
		awaitOpens(2);
		assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
	}

	@Test
	void textHeartbeatIsAnsweredAndNeverReachesTheHandler() {
		// The echo server answers the ping text with itself, so ping and pong text are the same here.
		ManagedConnection connection = open((settings) -> settings
			.heartbeatMode(io.resilientws.heartbeat.HeartbeatMode.TEXT)
			.heartbeatPingText("hb")
			.heartbeatPongText("hb")
			.heartbeatInterval(Duration.ofMillis(100))
			// Not what this test is about: long enough that a late reply on a busy machine is no death.
			.heartbeatTimeout(Duration.ofSeconds(2)));
		await().atMost(WAIT).until(() -> this.server.received().stream().filter("hb"::equals).count() >= 5);
		assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
		assertThat(connection.lastHeartbeatRoundTrip()).isPresent();
		assertThat(this.handler.messages).doesNotContain("hb");
		assertThat(this.handler.closes).isEmpty();
	}

	@Test
	void serverCloseWith1000DoesNotReconnect() {
		ManagedConnection connection = open(UnaryOperator.identity());
		connection.send("close:1000");
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		CloseEvent close = this.handler.closes.get(0);
		assertThat(close.code()).isEqualTo(1000);
		assertThat(close.initiator()).isEqualTo(CloseInitiator.REMOTE);
		assertThat(close.wasClean()).isTrue();
		assertThat(close.willReconnect()).isFalse();
		await().during(Duration.ofMillis(500))
			.atMost(WAIT)
			.until(() -> connection.state() == ConnectionState.CLOSED && this.handler.opens.get() == 1);
		assertThat(connection.send("late").rejection()).contains(io.resilientws.send.SendFailure.CLOSED);
	}

	@Test
	void serverCloseWith1012Reconnects() {
		ManagedConnection connection = open(UnaryOperator.identity());
		connection.send("close:1012");
		awaitOpens(2);
		CloseEvent close = this.handler.closes.get(0);
		assertThat(close.code()).isEqualTo(1012);
		assertThat(close.initiator()).isEqualTo(CloseInitiator.REMOTE);
		assertThat(close.willReconnect()).isTrue();
		assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
	}

	@Test
	void policyDecidesPerCode() {
		ManagedConnection connection = open((settings) -> settings.reconnectOnCodes(java.util.Set.of(4001))
			.neverReconnectOnCodes(java.util.Set.of(1012)));
		connection.send("close:4001");
		awaitOpens(2);
		connection.send("close:1012");
		await().atMost(WAIT).until(() -> this.handler.closes.size() == 2);
		assertThat(this.handler.closes.get(1).willReconnect()).isFalse();
		assertThat(connection.state()).isEqualTo(ConnectionState.CLOSED);
	}

	@Test
	void localCloseIsCleanAndDoesNotReconnect() {
		ManagedConnection connection = open(UnaryOperator.identity());
		connection.send("last words");
		connection.close(4000, "done here");
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		CloseEvent close = this.handler.closes.get(0);
		assertThat(close.code()).isEqualTo(4000);
		assertThat(close.initiator()).isEqualTo(CloseInitiator.LOCAL);
		assertThat(close.wasClean()).isTrue();
		assertThat(close.willReconnect()).isFalse();
		await().atMost(WAIT).until(() -> !this.server.closeStatuses().isEmpty());
		assertThat(this.server.closeStatuses().get(0).getCode()).isEqualTo(4000);
		// accepted before close(): written before the close frame
		assertThat(this.server.received()).contains("last words");
		await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> connection.state() == ConnectionState.CLOSED);
		assertThat(this.handler.opens).hasValue(1);
	}

	@Test
	void applicationStopClosesWith1001AndNeverReconnects() {
		ManagedConnection connection = open(UnaryOperator.identity());
		this.registry.stop();
		assertThat(connection.state()).isEqualTo(ConnectionState.CLOSED);
		await().atMost(WAIT).until(() -> !this.server.closeStatuses().isEmpty());
		assertThat(this.server.closeStatuses().get(0).getCode()).isEqualTo(1001);
		assertThat(this.handler.lastClose().willReconnect()).isFalse();
		await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> this.server.openSessions() == 0);
	}

	@Test
	void stateChangesArePublishedAsEvents() {
		ManagedConnection connection = open(UnaryOperator.identity());
		connection.close();
		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.CLOSED);
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(this.events).filteredOn(ConnectionEvent.StateChanged.class::isInstance)
				.extracting((event) -> ((ConnectionEvent.StateChanged) event).to())
				.containsExactly(ConnectionState.CONNECTING, ConnectionState.OPEN, ConnectionState.CLOSING,
						ConnectionState.CLOSED));
		// Published just after the move to CLOSED, on the connection's callback queue.
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(this.events).filteredOn(ConnectionEvent.Closed.class::isInstance).hasSize(1));
	}

	private ManagedConnection open(UnaryOperator<ConnectionSettings.Builder> customizer) {
		ConnectionSettings settings = customizer.apply(ConnectionSettings.builder()
			.url("ws://127.0.0.1:" + this.proxy.port() + "/ws")
			.reconnectInitialDelay(Duration.ofMillis(100))
			.reconnectMaxDelay(Duration.ofMillis(400))
			.reconnectJitter(Duration.ofMillis(50))
			.heartbeatInterval(Duration.ofSeconds(5))
			.closeTimeout(Duration.ofSeconds(2))).build();
		ManagedConnection connection = this.registry.register("test", settings, this.handler);
		connection.start();
		awaitOpens(1);
		return connection;
	}

	@Test
	void aHugeRetryAfterOnTheSharedSchedulerStillLeavesATimer() {
		// Long.MAX_VALUE seconds: beyond what an Instant can hold.
		try (RetryAfterServer refusing = RetryAfterServer.start(429, Long.MAX_VALUE)) {
			ManagedConnection connection = this.registry.register("refused",
					ConnectionSettings.builder().url(refusing.url()).build(), this.handler);
			connection.start();
			await().atMost(WAIT).until(() -> connection.state() == ConnectionState.WAITING_TO_RECONNECT);
			assertThat(connection.nextAttemptAt()).isPresent();
			// The handler hears of the close on the callback queue, after the state has changed.
			await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
			assertThat(this.handler.closes).singleElement()
				.satisfies((close) -> assertThat(close.willReconnect()).isTrue());
		}
	}

	@Test
	void messageOverTheInboundLimitEndsTheConnectionWith1009WithoutReconnecting() {
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		new ClientConnectionMetrics(this.registry).bindTo(meters);
		ManagedConnection connection = open((settings) -> settings.inboundMaxMessageSize(1024));
		awaitServerSession();
		this.server.broadcast("x".repeat(1024));
		await().atMost(WAIT).until(() -> this.handler.messages.size() == 1);

		this.server.broadcast("y".repeat(1025));

		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.CLOSED);
		assertTooBig(connection, "message of more than 1024 bytes (inbound.max-message-size)");
		await().atMost(WAIT).until(() -> meters.find("resilientws.client.closes")
			.tags("connection", "test", "code", "1009", "initiator", "local")
			.counter() != null);
		assertThat(this.events).filteredOn(ConnectionEvent.Closed.class::isInstance)
			.singleElement()
			.satisfies((event) -> assertThat(((ConnectionEvent.Closed) event).close().code()).isEqualTo(1009));
		// The server hears why: 1009.
		await().atMost(WAIT).until(() -> !this.server.closeStatuses().isEmpty());
		assertThat(this.server.closeStatuses().get(0).getCode()).isEqualTo(1009);
	}

	@Test
	void fragmentedMessageOverTheInboundLimitEndsTheConnectionWith1009() {
		ManagedConnection connection = open((settings) -> settings.inboundMaxMessageSize(1024));
		awaitServerSession();
		// Each fragment is within the limit; together they are not.
		this.server.broadcastFragmented("a".repeat(600), "b".repeat(600), "c".repeat(600));

		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.CLOSED);
		assertTooBig(connection, "message of more than 1024 bytes (inbound.max-message-size)");
	}

	@Test
	void binaryMessageOverTheInboundLimitEndsTheConnectionWith1009() {
		ManagedConnection connection = open((settings) -> settings.inboundMaxMessageSize(1024));
		awaitServerSession();
		this.server.broadcast(new byte[4096]);

		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.CLOSED);
		assertTooBig(connection, "message of more than 1024 bytes (inbound.max-message-size)");
	}

	private void assertTooBig(ManagedConnection connection, String reason) {
		// The handler hears of the close on the callback queue, after the state has changed.
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		assertThat(this.handler.closes).singleElement().satisfies((close) -> {
			assertThat(close.code()).isEqualTo(1009);
			assertThat(close.reason()).isEqualTo(reason);
			assertThat(close.initiator()).isEqualTo(CloseInitiator.LOCAL);
			assertThat(close.willReconnect()).isFalse();
		});
		assertThat(this.handler.messages).allSatisfy((message) -> assertThat(message).hasSizeLessThanOrEqualTo(1024));
		assertThat(connection.lastClose()).hasValueSatisfying((close) -> assertThat(close.code()).isEqualTo(1009));
	}

	private void awaitOpens(int opens) {
		await().atMost(WAIT).until(() -> this.handler.opens.get() >= opens);
	}

	/**
	 * Tomcat writes the 101 before it tells the server's handler of the session: a client can be open while
	 * the server has no session yet to broadcast to or abort.
	 */
	private void awaitServerSession() {
		await().atMost(WAIT).until(() -> this.server.openSessions() == 1);
	}

}
