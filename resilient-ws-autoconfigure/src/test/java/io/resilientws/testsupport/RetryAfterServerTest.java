package io.resilientws.testsupport;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class RetryAfterServerTest {

	private final HttpClient httpClient = HttpClient.newHttpClient();

	@Test
	void webSocketHandshakeIsRefusedWith503AndRetryAfter() {
		try (RetryAfterServer server = RetryAfterServer.start()) {
			HttpResponse<?> response = failedHandshake(server).getResponse();

			assertThat(response.statusCode()).isEqualTo(503);
			assertThat(response.headers().firstValue("Retry-After")).contains("1");
			assertThat(server.requests()).isEqualTo(1);
		}
	}

	@Test
	void statusAndDelayAreConfigurable() {
		try (RetryAfterServer server = RetryAfterServer.start(429, 30)) {
			HttpResponse<?> response = failedHandshake(server).getResponse();

			assertThat(response.statusCode()).isEqualTo(429);
			assertThat(response.headers().firstValue("retry-after")).contains("30");
		}
	}

	@Test
	void retryAfterCanBeLeftOut() {
		try (RetryAfterServer server = RetryAfterServer.startWithoutRetryAfter(503)) {
			HttpResponse<?> response = failedHandshake(server).getResponse();

			assertThat(response.statusCode()).isEqualTo(503);
			assertThat(response.headers().firstValue("Retry-After")).isEmpty();
		}
	}

	@Test
	void countsEveryRequestIncludingPlainHttp() throws Exception {
		try (RetryAfterServer server = RetryAfterServer.start()) {
			failedHandshake(server);
			failedHandshake(server);
			HttpResponse<Void> plain = this.httpClient.send(
					HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/anything")).build(),
					HttpResponse.BodyHandlers.discarding());

			assertThat(plain.statusCode()).isEqualTo(503);
			assertThat(server.requests()).isEqualTo(3);
		}
	}

	private WebSocketHandshakeException failedHandshake(RetryAfterServer server) {
		ExecutionException failure = catchThrowableOfType(ExecutionException.class,
				() -> this.httpClient.newWebSocketBuilder()
					.buildAsync(URI.create(server.url()), new WebSocket.Listener() {
					})
					.get(10, TimeUnit.SECONDS));
		assertThat(failure).as("handshake must fail").isNotNull();
		assertThat(failure.getCause()).isInstanceOf(WebSocketHandshakeException.class);
		return (WebSocketHandshakeException) failure.getCause();
	}

}
