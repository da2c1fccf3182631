package io.resilientws.actuate.endpoint;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionState;
import io.resilientws.testsupport.Http;
import io.resilientws.testsupport.RecordingHandler;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code /actuator/websockets} and {@code /actuator/health/websockets} over HTTP, in an application on a
 * real port whose connections reach a real server (one of them with credentials in its URL and headers)
 * or a port where nothing listens. Default access: reads work, the write operation is refused.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.endpoints.web.exposure.include=websockets,health",
				"management.endpoint.health.show-details=always",
				"management.endpoint.health.group.readiness.include=readinessState",
				"management.endpoint.health.group.readiness.show-details=always",
				"resilient-ws.client.connections.feed.headers.Authorization=Bearer secret-header",
				"resilient-ws.client.connections.feed.subprotocols=v1.feed",
				"resilient-ws.client.connections.down.reconnect.initial-delay=500ms",
				"resilient-ws.client.connections.down.reconnect.max-delay=1s",
				"resilient-ws.client.connections.down.health.down-after=1h" })
@DirtiesContext
class WebSocketsEndpointWebTest {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private static final TestWebSocketServer server = TestWebSocketServer.builder().subprotocols("v1.feed").start();

	@LocalServerPort
	private int port;

	@Autowired
	private ConnectionRegistry connections;

	@DynamicPropertySource
	static void connectionUrls(DynamicPropertyRegistry registry) throws IOException {
		int refused = refusedPort();
		registry.add("resilient-ws.client.connections.feed.url",
				() -> "ws://user:secret-password@127.0.0.1:" + server.port() + "/ws?token=secret-query");
		registry.add("resilient-ws.client.connections.down.url", () -> "ws://127.0.0.1:" + refused + "/ws");
	}

	@AfterAll
	static void stopServer() {
		server.stop();
	}

	@BeforeEach
	void awaitConnections() {
		await().atMost(WAIT).until(() -> this.connections.get("feed").state() == ConnectionState.OPEN);
		await().atMost(WAIT).until(() -> this.connections.get("down").lastClose().isPresent());
	}

	@Test
	void readListsEveryConnectionWithoutCredentials() {
		HttpResponse<String> response = Http.get(this.port, "/actuator/websockets");
		assertThat(response.statusCode()).isEqualTo(200);
		System.out.println("/actuator/websockets: " + response.body());
		DocumentContext json = JsonPath.parse(response.body());
		assertThat((String) json.read("$.clients.feed.name")).isEqualTo("feed");
		assertThat((String) json.read("$.clients.feed.url")).isEqualTo("ws://127.0.0.1:" + server.port() + "/ws");
		assertThat((String) json.read("$.clients.feed.state")).isEqualTo("OPEN");
		assertThat((String) json.read("$.clients.feed.subprotocol")).isEqualTo("v1.feed");
		assertThat((Integer) json.read("$.clients.feed.attempt")).isEqualTo(1);
		assertThat((Integer) json.read("$.clients.feed.bufferedBytes")).isZero();
		assertThat((String) json.read("$.clients.feed.openSince")).isNotBlank();
		assertThat(json.read("$.clients.feed.uptime", Object.class)).isNotNull();
		assertThat((String) json.read("$.clients.down.state")).isIn("CONNECTING", "WAITING_TO_RECONNECT");
		assertThat((Integer) json.read("$.clients.down.lastClose.code")).isEqualTo(1006);
		assertThat((String) json.read("$.clients.down.lastClose.initiator")).isEqualTo("ABNORMAL");
		// A web application: the server registry is there too, with no sessions in this test.
		assertThat((Integer) json.read("$.server.sessions")).isZero();
		assertThat(response.body()).doesNotContain("transitions");
		assertNoSecrets(response.body());
	}

	@Test
	void readOneShowsItsRecentTransitions() {
		// The history hears of transitions on the connection's callback queue, after the state (awaited
		// before each test) has changed, and of the close after the move it caused.
		await().atMost(WAIT).untilAsserted(() -> {
			HttpResponse<String> response = Http.get(this.port, "/actuator/websockets/feed");
			assertThat(response.statusCode()).isEqualTo(200);
			System.out.println("/actuator/websockets/feed: " + response.body());
			DocumentContext json = JsonPath.parse(response.body());
			assertThat((String) json.read("$.name")).isEqualTo("feed");
			assertThat((String) json.read("$.transitions[0].from")).isEqualTo("CLOSED");
			assertThat((String) json.read("$.transitions[0].to")).isEqualTo("CONNECTING");
			assertThat((String) json.read("$.transitions[1].to")).isEqualTo("OPEN");
			assertThat((String) json.read("$.transitions[1].timestamp")).isNotBlank();
			assertNoSecrets(response.body());
		});
		// Every move to WAITING_TO_RECONNECT carries the close that caused it.
		await().atMost(WAIT).untilAsserted(() -> {
			String down = Http.get(this.port, "/actuator/websockets/down").body();
			List<Integer> codes = JsonPath.read(down, "$.transitions[?(@.to == 'WAITING_TO_RECONNECT')].close.code");
			assertThat(codes).isNotEmpty().containsOnly(1006);
		});
	}

	@Test
	void readOfAnUnknownConnectionIsNotFound() {
		assertThat(Http.get(this.port, "/actuator/websockets/nope").statusCode()).isEqualTo(404);
	}

	@Test
	void writeIsRefusedByDefault() {
		HttpResponse<String> response = Http.post(this.port, "/actuator/websockets/feed",
				"{\"action\":\"close\",\"code\":4000}");
		assertThat(response.statusCode()).isBetween(400, 499);
		assertThat(this.connections.get("feed").state()).isEqualTo(ConnectionState.OPEN);
		assertThat(Http.post(this.port, "/actuator/websockets/feed", "{\"action\":\"reconnect\"}").statusCode())
			.isBetween(400, 499);
		assertThat(this.connections.get("feed").attempt()).isEqualTo(1);
	}

	@Test
	void healthShowsEachConnectionUnderWebsocketsClients() {
		HttpResponse<String> response = Http.get(this.port, "/actuator/health/websockets");
		System.out.println("/actuator/health/websockets: " + response.body());
		DocumentContext json = JsonPath.parse(response.body());
		assertThat((String) json.read("$.components.clients.components.feed.status")).isEqualTo("UP");
		assertThat((String) json.read("$.components.clients.components.down.status")).isEqualTo("RECONNECTING");
		assertThat((String) json.read("$.components.clients.components.down.details.lastClose.initiator"))
			.isEqualTo("ABNORMAL");
		// RECONNECTING is not in the default status order: it does not pull the aggregate down.
		assertThat((String) json.read("$.status")).isEqualTo("UP");
		assertThat(response.statusCode()).isEqualTo(200);
		assertNoSecrets(response.body());
	}

	@Test
	void readinessGroupLeavesTheWebsocketsContributorOutByDefault() {
		HttpResponse<String> response = Http.get(this.port, "/actuator/health/readiness");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).contains("readinessState").doesNotContain("websockets");
	}

	private static void assertNoSecrets(String output) {
		assertThat(output).doesNotContain("secret").doesNotContain("token=").doesNotContain("Bearer");
	}

	private static int refusedPort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		RecordingHandler handler() {
			return new RecordingHandler();
		}

	}

}
