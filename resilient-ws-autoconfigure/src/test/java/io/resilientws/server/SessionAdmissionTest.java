package io.resilientws.server;

import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

import io.resilientws.testsupport.Http;
import io.resilientws.testsupport.RawClient;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * Who gets a place, and what a refused client learns, on a real Tomcat with the starter's
 * auto-configuration: admission runs after every other handshake interceptor (the origin check
 * included), applies to SockJS endpoints as to plain WebSocket ones, and a refusal names its kind in
 * one word, never the configured limits.
 */
class SessionAdmissionTest {

	private static final Duration WAIT = Duration.ofSeconds(15);

	private static final String APP = "https://app.example";

	private static final String EVIL = "https://evil.example";

	private final List<AutoCloseable> resources = new ArrayList<>();

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
	void aRefusalSaysCapacityAndNotTheLimit() {
		start(TestWebSocketServer.builder(), "resilient-ws.server.max-sessions=1");
		connect(this.server.url(), Map.of());
		HttpResponse<?> refused = refusal(this.server.url(), Map.of());
		assertThat(refused.statusCode()).isEqualTo(503);
		assertThat(refused.headers().firstValue("X-Resilient-Ws-Refused")).contains("capacity");
		assertThat(refused.headers().firstValue("Retry-After")).isPresent();
	}

	@Test
	void aCrossOriginHandshakeIsForbiddenEvenWhenTheServerIsFullSoItCannotProbeCapacity() {
		start(TestWebSocketServer.builder().allowedOrigins(APP), "resilient-ws.server.max-sessions=1");
		connect(this.server.url(), Map.of("Origin", APP));
		HttpResponse<?> refused = refusal(this.server.url(), Map.of("Origin", EVIL));
		assertThat(refused.statusCode()).isEqualTo(403);
		assertThat(refused.headers().firstValue("X-Resilient-Ws-Refused")).isEmpty();
		assertThat(refusal(this.server.url(), Map.of("Origin", APP)).statusCode()).isEqualTo(503);
	}

	@Test
	void aSockJsWebSocketIsAdmittedLikeAPlainOne() {
		start(TestWebSocketServer.builder().sockJs(), "resilient-ws.server.max-sessions=1");
		connect(this.server.url(), Map.of());
		String sockJsWebSocket = "ws://127.0.0.1:" + this.server.port() + TestWebSocketServer.SOCKJS_PATH
				+ "/000/first/websocket";
		assertThat(refusal(sockJsWebSocket, Map.of()).statusCode()).isEqualTo(503);
		// The client's handshake completes a moment before the registry has its session.
		await().atMost(WAIT).until(() -> this.registry.count() == 1);
	}

	@Test
	void aSockJsHttpSessionHoldsItsPlaceUntilItCloses() {
		start(TestWebSocketServer.builder().sockJs(), "resilient-ws.server.max-sessions=1");
		HttpResponse<String> opened = Http.post(this.server.port(),
				TestWebSocketServer.SOCKJS_PATH + "/000/polling/xhr", "");
		assertThat(opened.statusCode()).isEqualTo(200);
		assertThat(opened.body()).startsWith("o");
		await().atMost(WAIT).until(() -> this.registry.count() == 1);
		// Its place is still taken: neither a plain WebSocket nor another SockJS session gets in.
		assertThat(refusal(this.server.url(), Map.of()).statusCode()).isEqualTo(503);
		assertThat(Http.post(this.server.port(), TestWebSocketServer.SOCKJS_PATH + "/000/other/xhr", "")
			.statusCode()).isEqualTo(503);
		this.registry.find(this.registry.sessions().iterator().next().getId())
			.orElseThrow()
			.close();
		await().atMost(WAIT).until(() -> this.registry.count() == 0);
		connect(this.server.url(), Map.of());
		// Given back once only: the limit still holds.
		assertThat(refusal(this.server.url(), Map.of()).statusCode()).isEqualTo(503);
	}

	@Test
	void aSockJsEndpointWithoutOriginsTakesTheConfiguredDefaults() {
		start(TestWebSocketServer.builder().allowedOrigins().sockJs(), "resilient-ws.server.allowed-origins=" + APP);
		String sockJsWebSocket = "ws://127.0.0.1:" + this.server.port() + TestWebSocketServer.SOCKJS_PATH
				+ "/websocket";
		connect(sockJsWebSocket, Map.of("Origin", APP));
		assertThat(refusal(sockJsWebSocket, Map.of("Origin", EVIL)).statusCode()).isEqualTo(403);
	}

	private void start(TestWebSocketServer.Builder builder, String... properties) {
		builder.resilientWsAutoConfiguration(true);
		for (String property : properties) {
			String[] pair = property.split("=", 2);
			builder.property(pair[0], pair[1]);
		}
		this.server = builder.start();
		this.registry = this.server.applicationContext().getBean(ServerSessionRegistry.class);
	}

	private RawClient connect(String url, Map<String, String> headers) {
		RawClient client = RawClient.connect(url, headers);
		this.resources.add(client);
		return client;
	}

	private static HttpResponse<?> refusal(String url, Map<String, String> headers) {
		CompletionException failed = catchThrowableOfType(CompletionException.class,
				() -> RawClient.attempt(url, headers).join());
		assertThat(failed).as("handshake to %s refused", url).isNotNull();
		assertThat(failed.getCause()).isInstanceOf(WebSocketHandshakeException.class);
		return ((WebSocketHandshakeException) failed.getCause()).getResponse();
	}

}
