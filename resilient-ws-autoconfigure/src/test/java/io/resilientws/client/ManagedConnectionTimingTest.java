package io.resilientws.client;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.function.UnaryOperator;

import io.resilientws.testsupport.FailingTcpServer;
import io.resilientws.testsupport.ManualTaskScheduler;
import io.resilientws.testsupport.RecordingHandler;
import io.resilientws.testsupport.RetryAfterServer;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Timing of heartbeats and reconnects on an injected clock: real sockets and a real server, but time
 * moves only when the test says so, so bounds are checked to the millisecond without sleeping.
 */
class ManagedConnectionTimingTest {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private final ManualTaskScheduler clock = new ManualTaskScheduler();

	private final RecordingHandler handler = new RecordingHandler();

	private ConnectionRegistry registry;

	@BeforeEach
	void createRegistry() {
		this.registry = new ConnectionRegistry(this.clock, (bundle) -> {
			throw new IllegalStateException("no TLS in this test");
		}, (event) -> {
		}, ConnectionSettings::builder, Duration.ofSeconds(5));
	}

	@AfterEach
	void destroyRegistry() {
		this.registry.destroy();
	}

	@Test
	void frozenLinkIsDeclaredDeadExactlyAtIntervalPlusTimeout() {
		try (TestWebSocketServer server = TestWebSocketServer.start(); TcpProxy proxy = TcpProxy.start(server.port())) {
			Duration interval = Duration.ofSeconds(20);
			Duration timeout = Duration.ofSeconds(10);
			ManagedConnection connection = start("ws://127.0.0.1:" + proxy.port() + "/ws",
					(settings) -> settings.heartbeatInterval(interval).heartbeatTimeout(timeout));
			await().atMost(WAIT).until(() -> connection.state() == ConnectionState.OPEN);

			// A live link: the first ping is answered over the real socket.
			this.clock.advance(interval);
			await().atMost(WAIT).until(() -> connection.lastHeartbeatRoundTrip().isPresent());
			this.clock.advance(timeout);
			assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);

			// The link freezes right after that answer: no FIN, no RST, nothing.
			proxy.freeze();
			this.clock.advance(interval.minus(timeout));
			this.clock.advance(timeout.minusMillis(1));
			assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
			this.clock.advance(Duration.ofMillis(1));
			await().atMost(WAIT).until(() -> connection.state() == ConnectionState.WAITING_TO_RECONNECT);
			CloseEvent close = this.handler.lastClose();
			assertThat(close.code()).isEqualTo(1006);
			assertThat(close.initiator()).isEqualTo(CloseInitiator.ABNORMAL);
			assertThat(close.reason()).contains("no pong within 10000 ms");
		}
	}

	@Test
	void reconnectDelaysGrowWithinTheirJitterBoundsUntilAttemptsRunOut() throws IOException {
		long initial = 1000;
		long max = 16_000;
		long jitter = 300;
		ManagedConnection connection = start(refusedUrl(), (settings) -> settings
			.reconnectInitialDelay(Duration.ofMillis(initial))
			.reconnectMaxDelay(Duration.ofMillis(max))
			.reconnectMultiplier(2)
			.reconnectJitter(Duration.ofMillis(jitter))
			.reconnectMaxAttempts(7));
		long nominal = initial;
		for (int attempt = 1; attempt <= 7; attempt++) {
			int closes = attempt;
			await().atMost(WAIT).until(() -> this.handler.closes.size() == closes);
			CloseEvent close = this.handler.lastClose();
			assertThat(close.code()).isEqualTo(1006);
			assertThat(close.willReconnect()).isTrue();
			assertThat(close.nextAttempt()).isEqualTo(attempt + 1);
			long delay = Duration.between(this.clock.now(), close.nextAttemptAt()).toMillis();
			// spring-core's ExponentialBackOff: jitter scales with the delay, never goes below the
			// initial delay or above the maximum, and the first delay only grows.
			long scaled = jitter * (nominal / initial);
			assertThat(delay).as("delay before attempt %d", attempt + 1)
				.isBetween(Math.max(nominal - scaled, initial), Math.min(nominal + scaled, max));
			assertThat(connection.state()).isEqualTo(ConnectionState.WAITING_TO_RECONNECT);
			assertThat(connection.nextAttemptAt()).contains(close.nextAttemptAt());
			this.clock.advanceTo(close.nextAttemptAt().minusMillis(1));
			assertThat(connection.state()).isEqualTo(ConnectionState.WAITING_TO_RECONNECT);
			this.clock.advance(Duration.ofMillis(1));
			nominal = Math.min(nominal * 2, max);
		}
		await().atMost(WAIT).until(() -> this.handler.closes.size() == 8);
		assertThat(this.handler.lastClose().willReconnect()).isFalse();
		assertThat(connection.state()).isEqualTo(ConnectionState.CLOSED);
		assertThat(this.handler.errors).hasSize(8);
	}

	@Test
	void tryAgainLaterWaitsAtLeastItsFloor() {
		try (TestWebSocketServer server = TestWebSocketServer.start()) {
			ManagedConnection connection = start(server.url(),
					(settings) -> settings.reconnectTryAgainLaterDelay(Duration.ofSeconds(15)));
			await().atMost(WAIT).until(() -> connection.state() == ConnectionState.OPEN);
			Instant closedAt = this.clock.now();
			connection.send("close:1013");
			await().atMost(WAIT).until(() -> connection.state() == ConnectionState.WAITING_TO_RECONNECT);
			assertThat(this.handler.lastClose().code()).isEqualTo(1013);
			// Spread upward by the default jitter share (500ms of 1s): 15s to 22.5s, never earlier.
			assertThat(Duration.between(closedAt, this.handler.lastClose().nextAttemptAt()))
				.isBetween(Duration.ofSeconds(15), Duration.ofMillis(22_500));
		}
	}

	// Issue 10: the JDK's HttpClient, the transport before, opened a second TCP connection a few
	// milliseconds after each reset or closed handshake (not after a timeout): two per backoff step.
	@ParameterizedTest
	@EnumSource(FailingTcpServer.Mode.class)
	void eachConnectAttemptOpensExactlyOneTcpConnection(FailingTcpServer.Mode mode) {
		try (FailingTcpServer server = FailingTcpServer.start(mode)) {
			ManagedConnection connection = start(server.url(),
					(settings) -> settings.connectTimeout(Duration.ofMillis(300)).reconnectJitter(Duration.ZERO));
			for (int attempt = 1; attempt <= 3; attempt++) {
				int attempts = attempt;
				await().atMost(WAIT).until(() -> this.handler.closes.size() == attempts
						&& connection.state() == ConnectionState.WAITING_TO_RECONNECT);
				await().atMost(WAIT).until(() -> server.connections() >= attempts);
				assertThat(server.connections()).as("TCP connections after %d attempts", attempts).isEqualTo(attempts);
				this.clock.advanceTo(connection.nextAttemptAt().orElseThrow());
			}
		}
	}

	@Test
	void retryAfterOfARefusedHandshakeIsHonoured() {
		try (RetryAfterServer server = RetryAfterServer.start(503, 42)) {
			ManagedConnection connection = start("ws://127.0.0.1:" + server.port() + "/ws", UnaryOperator.identity());
			await().atMost(WAIT).until(() -> connection.state() == ConnectionState.WAITING_TO_RECONNECT);
			CloseEvent close = this.handler.lastClose();
			assertThat(close.code()).isEqualTo(1006);
			assertThat(close.reason()).isEqualTo("handshake refused with HTTP 503");
			assertThat(Duration.between(this.clock.now(), close.nextAttemptAt())).isBetween(Duration.ofSeconds(42),
					Duration.ofSeconds(63));
		}
	}

	@Test
	void clientsRefusedWithTheSameRetryAfterComeBackSpreadOutButNeverEarly() {
		try (RetryAfterServer server = RetryAfterServer.start(503, 10)) {
			List<ManagedConnection> connections = new ArrayList<>();
			Instant refusedAt = this.clock.now();
			for (int i = 0; i < 100; i++) {
				connections.add(start("client-" + i, server.url(), UnaryOperator.identity()));
			}
			await().atMost(WAIT).until(() -> connections.stream()
				.allMatch((connection) -> connection.state() == ConnectionState.WAITING_TO_RECONNECT));
			List<Duration> delays = connections.stream()
				.map((connection) -> Duration.between(refusedAt, connection.nextAttemptAt().orElseThrow()))
				.toList();
			// Default jitter 500ms on an initial delay of 1s: up to half the requested delay on top.
			assertThat(delays).allSatisfy((delay) -> assertThat(delay).isBetween(Duration.ofSeconds(10),
					Duration.ofSeconds(15)));
			assertThat(new HashSet<>(delays)).as("distinct comeback instants").hasSizeGreaterThan(50);
		}
	}

	@Test
	void aHugeRetryAfterIsClampedAndStillLeavesATimer() {
		try (RetryAfterServer server = RetryAfterServer.start(429, 999_999_999_999L)) {
			ManagedConnection connection = start(server.url(),
					(settings) -> settings.reconnectJitter(Duration.ZERO));
			await().atMost(WAIT).until(() -> connection.state() == ConnectionState.WAITING_TO_RECONNECT);
			assertThat(connection.nextAttemptAt()).isPresent();
			assertThat(Duration.between(this.clock.now(), connection.nextAttemptAt().get()))
				.isEqualTo(ReconnectSettings.MAX_RETRY_AFTER);
			assertThat(this.clock.pendingTasks()).isPositive();
			this.clock.advanceTo(connection.nextAttemptAt().get());
			await().atMost(WAIT).until(() -> this.handler.closes.size() == 2);
			assertThat(connection.state()).isEqualTo(ConnectionState.WAITING_TO_RECONNECT);
		}
	}

	@Test
	void aStableConnectionStartsItsAttemptsAfresh() {
		try (TestWebSocketServer server = TestWebSocketServer.start(); TcpProxy proxy = TcpProxy.start(server.port())) {
			ManagedConnection connection = start("ws://127.0.0.1:" + proxy.port() + "/ws",
					(settings) -> settings.reconnectStableAfter(Duration.ofMinutes(1)).heartbeatEnabled(false));
			await().atMost(WAIT).until(() -> connection.state() == ConnectionState.OPEN);
			// A flapping link: lost at once, twice; the attempt count goes on.
			for (int loss = 1; loss <= 2; loss++) {
				proxy.cutAll();
				int closes = loss;
				await().atMost(WAIT).until(() -> this.handler.closes.size() == closes);
				assertThat(this.handler.lastClose().nextAttempt()).isEqualTo(loss + 1);
				this.clock.advanceTo(this.handler.lastClose().nextAttemptAt());
				await().atMost(WAIT).until(() -> connection.state() == ConnectionState.OPEN);
			}
			// Up for longer than stable-after: the next loss is attempt 1 of a new series.
			this.clock.advance(Duration.ofMinutes(1));
			proxy.cutAll();
			await().atMost(WAIT).until(() -> this.handler.closes.size() == 3);
			assertThat(this.handler.lastClose().nextAttempt()).isEqualTo(1);
		}
	}

	private ManagedConnection start(String url, UnaryOperator<ConnectionSettings.Builder> customizer) {
		return start("timed", url, customizer);
	}

	private ManagedConnection start(String name, String url, UnaryOperator<ConnectionSettings.Builder> customizer) {
		ConnectionSettings settings = customizer.apply(ConnectionSettings.builder().url(url)).build();
		ManagedConnection connection = this.registry.register(name, settings, this.handler);
		connection.start();
		return connection;
	}

	private static String refusedUrl() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return "ws://127.0.0.1:" + socket.getLocalPort() + "/ws";
		}
	}

}
