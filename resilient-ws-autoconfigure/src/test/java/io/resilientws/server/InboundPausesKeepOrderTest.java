package io.resilientws.server;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Inbound back-pressure suspends and resumes Tomcat's reading of a session many times over: every
 * message still reaches the handler once, in order, with its own text. (A handler once got a later
 * message's text in place of an earlier one's, in {@code SessionResumeTest}, on a new container thread
 * after a pause in reading; this does not reproduce it, but guards the pauses themselves.)
 */
class InboundPausesKeepOrderTest {

	private static final Duration WAIT = Duration.ofSeconds(60);

	private TestWebSocketServer server;

	@AfterEach
	void stop() {
		if (this.server != null) {
			this.server.close();
		}
	}

	@Test
	void aClientWhoseEchoesBackUpIsPausedOftenAndEveryMessageArrivesOnceInOrder() throws Exception {
		// A small send buffer, and a client that reads its echoes slowly: the echo fills it past half,
		// and the sender is paused while its writes progress.
		this.server = TestWebSocketServer.builder()
			.resilientWsAutoConfiguration(true)
			.property("resilient-ws.server.send.buffer-limit", "2KB")
			.property("resilient-ws.server.send.overflow", "drop-newest")
			.start();
		ServerSessionRegistry registry = this.server.applicationContext().getBean(ServerSessionRegistry.class);
		WebSocket client = HttpClient.newHttpClient()
			.newWebSocketBuilder()
			.buildAsync(URI.create(this.server.url()), new WebSocket.Listener() {
				@Override
				public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
					CompletableFuture.delayedExecutor(300, TimeUnit.MICROSECONDS).execute(() -> webSocket.request(1));
					return null;
				}
			})
			.get(10, TimeUnit.SECONDS);
		await().atMost(WAIT).until(() -> registry.count() == 1);
		List<String> sent = new ArrayList<>();
		for (int i = 0; i < 12_000; i++) {
			String text = "m-" + i + "-" + "x".repeat(200);
			sent.add(text);
			client.sendText(text, true).get(10, TimeUnit.SECONDS);
		}
		await().atMost(WAIT).until(() -> this.server.received().size() >= sent.size());
		assertThat(registry.statistics().stream().mapToLong(EndpointStatistics::inboundPauses).sum())
			.as("reading was paused").isPositive();
		assertThat(this.server.received()).isEqualTo(sent);
		client.abort();
	}

}
