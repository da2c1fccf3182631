package io.resilientws.peers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.SessionEvent;
import io.resilientws.testsupport.NodePeer;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;
import org.springframework.web.socket.handler.TextWebSocketHandler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The probe of issue 10 as a test: a chat endpoint that broadcasts every inbound text through the
 * registry, two Node {@code ws} clients (permessage-deflate off), one sending 20,000 texts of 1 KiB
 * random base64 with at most 200 in flight to the other, and a send buffer of 256 KB. Both clients
 * read as fast as they can, so every message must arrive and nobody may be closed as a slow consumer.
 * <p>
 * 30 s is a correctness bound, not a speed target: a healthy run takes 1 to 3 s on a loaded 2-core
 * machine, while the stall of the issue (the sender cut with 1013 within the first seconds, after
 * which nothing more is sent) never finishes.
 */
class NodeChatBroadcastTest {

	private static final int COUNT = 20_000;

	private final List<SessionEvent> events = new CopyOnWriteArrayList<>();

	private final List<String> output = new CopyOnWriteArrayList<>();

	private ConfigurableApplicationContext server;

	private Process probe;

	@BeforeEach
	void nodeIsThere() {
		NodePeer.assumeNodeAvailable();
	}

	@AfterEach
	void stop() {
		if (this.probe != null) {
			this.probe.destroy();
		}
		if (this.server != null) {
			this.server.close();
		}
	}

	@Test
	void everyBroadcastMessageArrivesWithASmallSendBuffer() throws IOException {
		this.server = new SpringApplicationBuilder(ChatApplication.class)
			.properties("server.port=0", "resilient-ws.server.send.buffer-limit=256KB", "spring.main.banner-mode=off")
			.run();
		this.server.getBean(ServerSessionRegistry.class).addListener(this.events::add);
		int port = this.server.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
		startProbe("ws://127.0.0.1:" + port + "/chat", COUNT, 200);
		try {
			await().atMost(Duration.ofSeconds(30)).until(() -> has("done " + COUNT) || has("close"));
		}
		catch (ConditionTimeoutException ex) {
			// Say where it stopped: how far the probe got, and what each session still buffers.
			StringBuilder state = new StringBuilder("Neither all " + COUNT + " delivered nor a close within 30 s; the probe's last lines "
					+ lastLines());
			this.server.getBean(ServerSessionRegistry.class)
				.sessions()
				.forEach((session) -> state.append("; session ")
					.append(session.getId())
					.append(" buffers ")
					.append(session.bufferedAmount())
					.append(" bytes"));
			throw new AssertionError(state.toString(), ex);
		}
		assertThat(this.output).as("the probe's output").noneMatch((line) -> line.startsWith("close"))
			.anyMatch((line) -> line.startsWith("done " + COUNT));
		assertThat(this.events).noneMatch(SessionEvent.Closed.class::isInstance);
	}

	private List<String> lastLines() {
		return this.output.subList(Math.max(0, this.output.size() - 4), this.output.size());
	}

	private boolean has(String prefix) {
		return this.output.stream().anyMatch((line) -> line.startsWith(prefix));
	}

	private void startProbe(String url, int count, int window) throws IOException {
		this.probe = new ProcessBuilder("node", "chat-probe.mjs", url, String.valueOf(count), String.valueOf(window))
			.directory(NodePeer.PROJECT.toFile())
			.redirectErrorStream(true)
			.start();
		Thread reader = new Thread(() -> {
			try (BufferedReader lines = new BufferedReader(
					new InputStreamReader(this.probe.getInputStream(), StandardCharsets.UTF_8))) {
				String line;
				while ((line = lines.readLine()) != null) {
					this.output.add(line);
				}
			}
			catch (IOException ex) {
				// The probe was stopped.
			}
		}, "chat-probe-output");
		reader.setDaemon(true);
		reader.start();
	}

	/** The sample's chat: whatever one participant sends, every participant gets. */
	@EnableAutoConfiguration
	@EnableWebSocket
	static class ChatApplication implements WebSocketConfigurer {

		private final ServerSessionRegistry sessions;

		ChatApplication(ServerSessionRegistry sessions) {
			this.sessions = sessions;
		}

		@Override
		public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
			registry.addHandler(new TextWebSocketHandler() {
				@Override
				protected void handleTextMessage(WebSocketSession session, TextMessage message) {
					ChatApplication.this.sessions.broadcast(message.getPayload());
				}
			}, "/chat").setAllowedOrigins("*");
		}

	}

}
