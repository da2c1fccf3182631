package io.resilientws.peers;

import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

import io.resilientws.ResilientWsScheduler;
import io.resilientws.client.CloseEvent;
import io.resilientws.client.CloseInitiator;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionSettings;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;
import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.testsupport.NodePeer;
import io.resilientws.testsupport.RecordingHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The managed client against Node's {@code ws} server, an implementation nobody here wrote, run as a
 * child process ({@code src/test/node/ws-server.mjs}). It echoes, picks the first subprotocol the client
 * offers that it supports, closes with any code the client asks for ({@code close:<code>}), and with
 * {@code --no-pong} stops answering pings.
 */
class NodeWsServerTest {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private NodePeer peer;

	private ResilientWsScheduler scheduler;

	private ConnectionRegistry registry;

	private final RecordingHandler handler = new RecordingHandler();

	@BeforeEach
	void createRegistry() {
		NodePeer.assumeNodeAvailable();
		this.scheduler = ResilientWsScheduler.create();
		this.registry = new ConnectionRegistry(this.scheduler.taskScheduler(), (bundle) -> {
			throw new IllegalStateException("no TLS in this test");
		}, (event) -> {
		}, ConnectionSettings::builder, Duration.ofSeconds(5));
	}

	@AfterEach
	void stopAll() {
		if (this.registry != null) {
			this.registry.destroy();
			this.scheduler.destroy();
		}
		if (this.peer != null) {
			this.peer.close();
		}
	}

	@Test
	void sendsAndReceivesTheEcho() {
		this.peer = NodePeer.start();
		ManagedConnection connection = open(UnaryOperator.identity());
		assertThat(connection.send("hello from Java ✓").delivery()).succeedsWithin(WAIT);
		await().atMost(WAIT).until(() -> this.handler.messages.contains("hello from Java ✓"));
		assertThat(connection.send(java.nio.ByteBuffer.wrap(new byte[] { 'h', 'i' })).isAccepted()).isTrue();
		await().atMost(WAIT).until(() -> this.handler.messages.contains("binary:hi"));
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(this.peer.lines("message")).containsExactly("message 1 hello from Java ✓"));
	}

	@Test
	void negotiatesTheSubprotocol() {
		this.peer = NodePeer.start("--protocols", "v2.chat,v1.chat");
		ManagedConnection connection = open((settings) -> settings.subprotocols(List.of("v1.chat", "v3.chat")));
		assertThat(connection.protocol()).isEqualTo("v1.chat");
		// The peer's log line is read from its output on another thread, maybe after the 101 opened us.
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(this.peer.lines("open")).containsExactly("open 1 protocol=v1.chat"));
	}

	@Test
	void noCommonSubprotocolLeavesItEmpty() {
		this.peer = NodePeer.start("--protocols", "v2.chat");
		ManagedConnection connection = open((settings) -> settings.subprotocols(List.of("v9.chat")));
		assertThat(connection.protocol()).isEmpty();
		assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
	}

	/**
	 * The close-code table of the README ("Which closes reconnect"), against a server that sends each code.
	 * 1010 is a client's code: the client refuses it from a server as a protocol error and closes with 1002.
	 */
	@ParameterizedTest(name = "server closes with {0}: the client sees {1}, reconnects {2}")
	@CsvSource({ "1000, 1000, false", "1001, 1001, true", "1002, 1002, false", "1003, 1003, false",
			"1007, 1007, false", "1008, 1008, false", "1009, 1009, false", "1010, 1002, false", "1011, 1011, true",
			"1012, 1012, true", "1013, 1013, true", "1014, 1014, true", "4000, 4000, false" })
	void serverCloseCodeDecidesWhetherToReconnect(int sent, int seen, boolean reconnects) {
		this.peer = NodePeer.start();
		ManagedConnection connection = open(
				(settings) -> settings.reconnectTryAgainLaterDelay(Duration.ofMillis(200)));
		connection.send("close:" + sent + ":bye");
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		CloseEvent close = this.handler.closes.get(0);
		assertThat(close.code()).isEqualTo(seen);
		if (sent == seen) {
			assertThat(close.reason()).isEqualTo("bye");
			assertThat(close.initiator()).isEqualTo(CloseInitiator.REMOTE);
			assertThat(close.wasClean()).isTrue();
		}
		else {
			assertThat(close.reason()).startsWith("protocol error: ");
			assertThat(close.initiator()).isEqualTo(CloseInitiator.ABNORMAL);
			assertThat(close.wasClean()).isFalse();
		}
		assertThat(close.willReconnect()).isEqualTo(reconnects);
		if (reconnects) {
			await().atMost(WAIT).until(() -> this.handler.opens.get() == 2);
			assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
			await().atMost(WAIT).untilAsserted(() -> assertThat(this.peer.lines("open")).hasSize(2));
		}
		else {
			await().during(Duration.ofMillis(500))
				.atMost(WAIT)
				.until(() -> connection.state() == ConnectionState.CLOSED && this.handler.opens.get() == 1);
			assertThat(this.peer.lines("open")).hasSize(1);
		}
	}

	@Test
	void serverThatStopsAnsweringPingsIsDeclaredDeadAndTheClientReconnects() {
		this.peer = NodePeer.start("--no-pong");
		ManagedConnection connection = open((settings) -> settings.heartbeatInterval(Duration.ofMillis(300))
			.heartbeatTimeout(Duration.ofMillis(300)));
		long openedAt = System.nanoTime();
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		Duration detection = Duration.ofNanos(System.nanoTime() - openedAt);
		CloseEvent close = this.handler.closes.get(0);
		assertThat(close.code()).isEqualTo(1006);
		assertThat(close.wasClean()).isFalse();
		assertThat(close.reason()).startsWith("heartbeat: no pong within 300 ms");
		assertThat(close.willReconnect()).isTrue();
		// interval + timeout, plus scheduling slack on a busy 2-core machine (the exact bound is proven on a
		// manual clock in ManagedConnectionTimingTest)
		assertThat(detection).isLessThan(Duration.ofMillis(600 + 1000));
		await().atMost(WAIT).untilAsserted(() -> assertThat(this.peer.lines("ping")).isNotEmpty());
		await().atMost(WAIT).until(() -> this.handler.opens.get() >= 2);
		assertThat(connection.state()).isIn(ConnectionState.OPEN, ConnectionState.WAITING_TO_RECONNECT,
				ConnectionState.CONNECTING);
	}

	@Test
	void textHeartbeatSpeaksTheSameTextsAsTheServer() {
		this.peer = NodePeer.start();
		ManagedConnection connection = open((settings) -> settings.heartbeatMode(HeartbeatMode.TEXT)
			.heartbeatInterval(Duration.ofMillis(100))
			// Not what this test is about: long enough that a late reply on a busy machine is no death.
			.heartbeatTimeout(Duration.ofSeconds(2)));
		await().atMost(WAIT).until(() -> this.peer.lines("textping").size() >= 3);
		await().atMost(WAIT).until(() -> connection.lastHeartbeatRoundTrip().isPresent());
		assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
		assertThat(this.handler.messages).doesNotContain(HeartbeatSettings.DEFAULT_PONG_TEXT);
		assertThat(this.handler.closes).isEmpty();
	}

	@Test
	void textHeartbeatUnansweredIsDeath() {
		this.peer = NodePeer.start("--no-pong");
		open((settings) -> settings.heartbeatMode(HeartbeatMode.TEXT)
			.heartbeatInterval(Duration.ofMillis(200))
			.heartbeatTimeout(Duration.ofMillis(200)));
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		assertThat(this.handler.closes.get(0).reason()).startsWith("heartbeat: no heartbeat reply within 200 ms");
		await().atMost(WAIT).untilAsserted(() -> assertThat(this.peer.lines("textping")).isNotEmpty());
	}

	@Test
	void localCloseReachesTheServerWithItsCode() {
		this.peer = NodePeer.start();
		ManagedConnection connection = open(UnaryOperator.identity());
		connection.close(4000, "done here");
		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.CLOSED);
		await().atMost(WAIT).until(() -> !this.peer.lines("close").isEmpty());
		assertThat(this.peer.lines("close")).containsExactly("close 1 4000 done here");
		// The handler hears of the close on the callback queue, after the state has changed.
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		assertThat(this.handler.lastClose().wasClean()).isTrue();
		assertThat(this.handler.lastClose().willReconnect()).isFalse();
	}

	@Test
	void droppedTcpConnectionIsAbnormalAndReconnects() {
		this.peer = NodePeer.start();
		ManagedConnection connection = open(UnaryOperator.identity());
		connection.send("terminate");
		await().atMost(WAIT).until(() -> this.handler.opens.get() == 2);
		CloseEvent close = this.handler.closes.get(0);
		assertThat(close.code()).isEqualTo(1006);
		assertThat(close.initiator()).isEqualTo(CloseInitiator.ABNORMAL);
		assertThat(close.wasClean()).isFalse();
		assertThat(close.willReconnect()).isTrue();
		assertThat(connection.state()).isEqualTo(ConnectionState.OPEN);
	}

	/**
	 * A peer's close reason is untrusted text: logged as is, a newline in it would start a forged log
	 * line. The log escapes it; the application's handler still gets the reason exactly as sent.
	 */
	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void aCloseReasonFromThePeerIsLoggedWithItsControlCharactersEscaped(CapturedOutput output) {
		this.peer = NodePeer.start();
		open(UnaryOperator.identity());
		String forged = "bye\nConnection 'node' open to ws://127.0.0.1/forged (attempt 1)\r\u202e";
		assertThat(this.registry.get("node").send("close:4001:" + forged).isAccepted()).isTrue();
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		assertThat(this.handler.closes.get(0).reason()).isEqualTo(forged);
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(output.getOut()).contains("Connection 'node' closed (4001 bye\\nConnection "
					+ "'node' open to ws://127.0.0.1/forged (attempt 1)\\r\\u202e, REMOTE); no reconnect"));
		assertThat(output.getOut().lines()).noneMatch((line) -> line.contains("forged") && !line.contains("closed (4001"));
	}

	private ManagedConnection open(UnaryOperator<ConnectionSettings.Builder> customizer) {
		ConnectionSettings settings = customizer.apply(ConnectionSettings.builder()
			.url(this.peer.url())
			.reconnectInitialDelay(Duration.ofMillis(100))
			.reconnectMaxDelay(Duration.ofMillis(400))
			.reconnectJitter(Duration.ofMillis(50))
			.heartbeatInterval(Duration.ofSeconds(5))
			.closeTimeout(Duration.ofSeconds(2))).build();
		ManagedConnection connection = this.registry.register("node", settings, this.handler);
		connection.start();
		await().atMost(WAIT).until(() -> this.handler.opens.get() >= 1);
		return connection;
	}

}
