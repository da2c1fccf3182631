package io.resilientws.peers;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.resilientws.server.CloseCause;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.SessionEvent;
import io.resilientws.testsupport.NodePeer;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Clients on Node's {@code ws} package, the most used Node WebSocket library, against the server
 * registry on embedded Tomcat: a client that stops answering pings, a client that stops reading, and
 * the application-level heartbeat.
 */
class NodeWsClientsTest {

	private static final Duration WAIT = Duration.ofSeconds(20);

	private final List<SessionEvent> events = new CopyOnWriteArrayList<>();

	private TestWebSocketServer server;

	private NodePeer client;

	@BeforeEach
	void nodeIsThere() {
		NodePeer.assumeNodeAvailable();
	}

	@AfterEach
	void stop() {
		if (this.client != null) {
			this.client.close();
		}
		if (this.server != null) {
			this.server.close();
		}
	}

	@Test
	void aClientWithAutoPongOffIsTerminatedByTheHeartbeat() {
		ServerSessionRegistry registry = start("resilient-ws.server.heartbeat.interval=300ms",
				"resilient-ws.server.heartbeat.timeout=300ms");
		this.client = NodePeer.client(this.server.url(), "--no-pong");
		await().atMost(WAIT).until(() -> closed().size() == 1);
		assertThat(closed().get(0).cause()).isEqualTo(CloseCause.HEARTBEAT_TIMEOUT);
		assertThat(registry.count()).isZero();
		// The link itself is fine, so the close frame gets through; a dead link would give 1006.
		await().atMost(WAIT).until(() -> !this.client.lines("close").isEmpty());
		assertThat(this.client.lines("close")).singleElement().asString().matches("close (1001|1006).*");
	}

	@Test
	void aClientThatStopsReadingIsTerminatedAsASlowConsumer() {
		ServerSessionRegistry registry = start("resilient-ws.server.send.buffer-limit=64KB",
				"resilient-ws.server.heartbeat.enabled=false");
		this.client = NodePeer.client(this.server.url(), "--pause");
		await().atMost(WAIT).until(() -> this.client.output().contains("paused") && registry.count() == 1);
		String payload = "p".repeat(8 * 1024);
		// Up to 160 MB: more than the kernel holds for a peer that does not read (~36 MB on Linux).
		for (int i = 0; i < 20_000 && closed().isEmpty(); i++) {
			registry.broadcast(payload);
			assertThat(registry.sessions()).allSatisfy((session) -> assertThat(session.bufferedAmount())
				.isLessThanOrEqualTo(64 * 1024));
		}
		await().atMost(WAIT).until(() -> closed().size() == 1);
		assertThat(closed().get(0).cause()).isEqualTo(CloseCause.SLOW_CONSUMER);
	}

	@Test
	void theApplicationLevelHeartbeatIsAnswered() {
		start();
		this.client = NodePeer.client(this.server.url(), "--app-ping");
		await().atMost(WAIT).until(() -> this.client.lines("message").contains("message __rws_pong__"));
		assertThat(this.server.received()).isEmpty();
	}

	private ServerSessionRegistry start(String... properties) {
		TestWebSocketServer.Builder builder = TestWebSocketServer.builder().resilientWsAutoConfiguration(true);
		for (String property : properties) {
			String[] pair = property.split("=", 2);
			builder.property(pair[0], pair[1]);
		}
		this.server = builder.start();
		ServerSessionRegistry registry = this.server.applicationContext().getBean(ServerSessionRegistry.class);
		registry.addListener(this.events::add);
		return registry;
	}

	private List<SessionEvent.Closed> closed() {
		return this.events.stream()
			.filter(SessionEvent.Closed.class::isInstance)
			.map(SessionEvent.Closed.class::cast)
			.toList();
	}

}
