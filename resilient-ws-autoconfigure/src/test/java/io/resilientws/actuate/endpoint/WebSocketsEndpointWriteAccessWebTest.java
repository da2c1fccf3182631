package io.resilientws.actuate.endpoint;

import java.net.http.HttpResponse;
import java.time.Duration;

import com.jayway.jsonpath.JsonPath;
import io.resilientws.client.CloseInitiator;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;
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
 * The write operation of {@code /actuator/websockets/{name}} once the application opens it with
 * {@code management.endpoint.websockets.access=unrestricted}; and the websockets health contributor
 * in the readiness group with {@code resilient-ws.health.include-in-readiness=true}.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.endpoints.web.exposure.include=websockets,health",
				"management.endpoint.websockets.access=unrestricted", "management.endpoint.health.show-details=always",
				"management.endpoint.health.group.readiness.include=readinessState",
				"management.endpoint.health.group.readiness.show-details=always",
				"resilient-ws.health.include-in-readiness=true" })
@DirtiesContext
class WebSocketsEndpointWriteAccessWebTest {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private static final TestWebSocketServer server = TestWebSocketServer.start();

	@LocalServerPort
	private int port;

	@Autowired
	private ConnectionRegistry connections;

	@DynamicPropertySource
	static void connectionUrl(DynamicPropertyRegistry registry) {
		registry.add("resilient-ws.client.connections.feed.url", server::url);
	}

	@AfterAll
	static void stopServer() {
		server.stop();
	}

	@BeforeEach
	void open() {
		ManagedConnection feed = this.connections.get("feed");
		if (feed.state() == ConnectionState.CLOSED) {
			feed.start();
		}
		await().atMost(WAIT).until(() -> feed.state() == ConnectionState.OPEN);
	}

	@Test
	void reconnectDropsTheConnectionAndOpensANewOne() {
		// Tomcat writes the 101 before its handler records the session: the client can be open first.
		await().atMost(WAIT).until(() -> server.openSessions() == 1);
		int sessionsBefore = server.negotiatedSubprotocols().size();
		HttpResponse<String> response = Http.post(this.port, "/actuator/websockets/feed", "{\"action\":\"reconnect\"}");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat((String) JsonPath.read(response.body(), "$.name")).isEqualTo("feed");
		await().atMost(WAIT).until(() -> server.negotiatedSubprotocols().size() == sessionsBefore + 1);
		await().atMost(WAIT).until(() -> this.connections.get("feed").state() == ConnectionState.OPEN);
	}

	@Test
	void closeClosesWithTheGivenCodeAndReasonAndDoesNotReconnect() {
		HttpResponse<String> response = Http.post(this.port, "/actuator/websockets/feed",
				"{\"action\":\"close\",\"code\":4000,\"reason\":\"maintenance\"}");
		assertThat(response.statusCode()).isEqualTo(200);
		ManagedConnection feed = this.connections.get("feed");
		await().atMost(WAIT).until(() -> feed.state() == ConnectionState.CLOSED);
		assertThat(feed.lastClose()).hasValueSatisfying((close) -> {
			assertThat(close.code()).isEqualTo(4000);
			assertThat(close.initiator()).isEqualTo(CloseInitiator.LOCAL);
		});
		await().atMost(WAIT).until(() -> server.closeStatuses().stream().anyMatch((status) -> status.getCode() == 4000));
		assertThat((String) JsonPath.read(Http.get(this.port, "/actuator/websockets/feed").body(), "$.state"))
			.isEqualTo("CLOSED");
	}

	@Test
	void invalidRequestsAreRefusedAndChangeNothing() {
		assertThat(Http.post(this.port, "/actuator/websockets/feed", "{\"action\":\"explode\"}").statusCode())
			.isEqualTo(400);
		assertThat(Http.post(this.port, "/actuator/websockets/feed", "{\"action\":\"close\",\"code\":1006}")
			.statusCode()).isEqualTo(400);
		assertThat(Http.post(this.port, "/actuator/websockets/feed", "{}").statusCode()).isEqualTo(400);
		assertThat(Http.post(this.port, "/actuator/websockets/nope", "{\"action\":\"reconnect\"}").statusCode())
			.isEqualTo(400);
		assertThat(this.connections.get("feed").state()).isEqualTo(ConnectionState.OPEN);
	}

	@Test
	void readinessGroupIncludesTheWebsocketsContributor() {
		HttpResponse<String> response = Http.get(this.port, "/actuator/health/readiness");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat((String) JsonPath.read(response.body(), "$.components.websockets.components.clients.components.feed.status"))
			.isEqualTo("UP");
		assertThat((String) JsonPath.read(response.body(), "$.components.readinessState.status")).isEqualTo("UP");
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
