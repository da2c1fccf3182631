package io.resilientws.sample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sample against itself: its {@code ticker} connection reaches its own {@code /ticker} endpoint.
 */
@SpringBootTest(webEnvironment = WebEnvironment.DEFINED_PORT)
class SampleApplicationTests {

	private static final int PORT = FreePort.find();

	@DynamicPropertySource
	static void serverPort(DynamicPropertyRegistry registry) {
		registry.add("server.port", () -> PORT);
	}

	@Autowired
	private ConnectionRegistry connections;

	@Autowired
	private TickerClient tickerClient;

	@Test
	void tickerConnectionOpensAndReceivesTicks() {
		ManagedConnection ticker = this.connections.get("ticker");
		await().atMost(Duration.ofSeconds(10)).until(ticker::state, (state) -> state == ConnectionState.OPEN);
		assertThat(ticker.settings().url()).hasToString("ws://localhost:" + PORT + "/ticker");

		long ticksBefore = this.tickerClient.tickCount();
		await().atMost(Duration.ofSeconds(10))
			.until(this.tickerClient::tickCount, (count) -> count >= ticksBefore + 2);
		assertThat(this.tickerClient.lastTick()).hasValueSatisfying(
				(tick) -> assertThat(tick).matches("tick \\d+ \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z"));
	}

	@Test
	void actuatorShowsTheConnectionItsHealthAndItsMeters() throws Exception {
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.connections.get("ticker").state() == ConnectionState.OPEN);
		String websockets = get("/actuator/websockets/ticker");
		assertThat(websockets).contains("\"state\":\"OPEN\"").contains("\"transitions\":[");
		assertThat(get("/actuator/health/websockets")).contains("\"ticker\":{").contains("\"status\":\"UP\"");
		assertThat(get("/actuator/metrics/resilientws.client.messages.received")).contains("\"connection\"");
	}

	private static String get(String path) throws Exception {
		HttpResponse<String> response = HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create("http://localhost:" + PORT + path)).build(),
					HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(path).isEqualTo(200);
		return response.body();
	}

	@Test
	void helloSentOnOpenIsEchoed() {
		await().atMost(Duration.ofSeconds(10))
			.until(this.tickerClient::lastEcho, Optional.of("echo: hello from ticker")::equals);
	}

}
