package io.resilientws.testsupport;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.web.socket.CloseStatus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class TestWebSocketServerTest {

	private static final Duration TIMEOUT = Duration.ofSeconds(10);

	private final List<AutoCloseable> toClose = new ArrayList<>();

	@AfterEach
	void tearDown() {
		for (AutoCloseable closeable : this.toClose) {
			try {
				closeable.close();
			}
			catch (Exception ex) {
				// best effort
			}
		}
	}

	@Test
	void echoesTextAndRecordsMessagesInOrder() throws Exception {
		TestWebSocketServer server = track(TestWebSocketServer.start());
		assertThat(server.url()).isEqualTo("ws://127.0.0.1:" + server.port() + "/ws");
		JdkClient client = JdkClient.connect(server.url());

		client.send("one");
		client.send("two");
		client.send("three");

		assertThat(client.nextMessage()).isEqualTo("one");
		assertThat(client.nextMessage()).isEqualTo("two");
		assertThat(client.nextMessage()).isEqualTo("three");
		assertThat(server.received()).containsExactly("one", "two", "three");
		assertThat(server.openSessions()).isEqualTo(1);
	}

	@Test
	void closeCommandClosesWithThatCodeAndIsNotRecorded() throws Exception {
		TestWebSocketServer server = track(TestWebSocketServer.start());
		JdkClient client = JdkClient.connect(server.url());

		client.send("before");
		assertThat(client.nextMessage()).isEqualTo("before");
		client.send("close:1012");

		assertThat(client.closeCode()).isEqualTo(1012);
		assertThat(server.received()).containsExactly("before");
		await().atMost(TIMEOUT).until(() -> server.openSessions() == 0);
		assertThat(server.closeStatuses()).extracting(CloseStatus::getCode).containsExactly(1012);
	}

	@Test
	void closeAllClosesEverySessionWithTheCode() throws Exception {
		TestWebSocketServer server = track(TestWebSocketServer.start());
		JdkClient first = JdkClient.connect(server.url());
		JdkClient second = JdkClient.connect(server.url());
		await().atMost(TIMEOUT).until(() -> server.openSessions() == 2);

		server.closeAll(1001);

		assertThat(first.closeCode()).isEqualTo(1001);
		assertThat(second.closeCode()).isEqualTo(1001);
		await().atMost(TIMEOUT).until(() -> server.openSessions() == 0);
	}

	@Test
	void abortAllDropsConnectionsWithoutCloseFrame() throws Exception {
		TestWebSocketServer server = track(TestWebSocketServer.start());
		JdkClient client = JdkClient.connect(server.url());
		await().atMost(TIMEOUT).until(() -> server.openSessions() == 1);

		server.abortAll();

		// No close frame, just a FIN: the JDK client reports onClose with the synthetic 1006, no onError.
		assertThat(client.closeCode()).isEqualTo(1006);
		assertThat(client.error.isDone()).isFalse();
		await().atMost(TIMEOUT).until(() -> server.openSessions() == 0);
		assertThat(server.closeStatuses()).extracting(CloseStatus::getCode).containsExactly(1006);
	}

	@Test
	void broadcastReachesEverySession() throws Exception {
		TestWebSocketServer server = track(TestWebSocketServer.start());
		JdkClient first = JdkClient.connect(server.url());
		JdkClient second = JdkClient.connect(server.url());
		await().atMost(TIMEOUT).until(() -> server.openSessions() == 2);

		server.broadcast("news");

		assertThat(first.nextMessage()).isEqualTo("news");
		assertThat(second.nextMessage()).isEqualTo("news");
	}

	@Test
	void negotiatesConfiguredSubprotocol() throws Exception {
		TestWebSocketServer server = track(TestWebSocketServer.builder().subprotocols("v2.chat", "v1.chat").start());

		JdkClient matching = JdkClient.connect(server.url(), "v1.chat");
		JdkClient unknown = JdkClient.connect(server.url(), "v9.chat");

		assertThat(matching.webSocket.getSubprotocol()).isEqualTo("v1.chat");
		assertThat(unknown.webSocket.getSubprotocol()).isEmpty();
		await().atMost(TIMEOUT).until(() -> server.negotiatedSubprotocols().size() == 2);
		assertThat(server.negotiatedSubprotocols()).containsExactly("v1.chat", "");
	}

	@Test
	void recordsHandshakeHeaders() throws Exception {
		TestWebSocketServer server = track(TestWebSocketServer.start());

		JdkClient.connect(server.url(), List.of(), "X-Test", "first");
		JdkClient.connect(server.url(), List.of(), "X-Test", "second");

		assertThat(server.handshakeHeaders()).hasSize(2);
		assertThat(server.lastHandshakeHeaders().getFirst("x-test")).isEqualTo("second");
		assertThat(server.lastHandshakeHeaders().getFirst("Upgrade")).isEqualToIgnoringCase("websocket");
	}

	@Test
	void stopDropsClientsAndTheSamePortCanBeReused() throws Exception {
		TestWebSocketServer server = track(TestWebSocketServer.start());
		JdkClient client = JdkClient.connect(server.url());
		await().atMost(TIMEOUT).until(() -> server.openSessions() == 1);

		server.stop();

		// Tomcat tells the handler 1001 "The web application is stopping", but no close frame reaches
		// the client: it sees the synthetic 1006.
		assertThat(client.closeCode()).isEqualTo(1006);
		assertThat(server.closeStatuses()).extracting(CloseStatus::getCode).containsExactly(1001);

		TestWebSocketServer restarted = track(TestWebSocketServer.start(server.port()));
		JdkClient again = JdkClient.connect(restarted.url());
		again.send("back");
		assertThat(again.nextMessage()).isEqualTo("back");
	}

	@Test
	void runsWithoutResilientWsAutoConfigurationByDefault() {
		TestWebSocketServer server = track(TestWebSocketServer.start());

		List<String> resilientWsBeans = Arrays.stream(server.applicationContext().getBeanDefinitionNames())
			.map((name) -> server.applicationContext().getType(name))
			.filter((type) -> type != null && type.getName().startsWith("io.resilientws."))
			.filter((type) -> !type.getPackageName().equals(TestWebSocketServer.class.getPackageName()))
			.map(Class::getName)
			.toList();
		assertThat(resilientWsBeans).isEmpty();
	}

	@Test
	void behindTcpProxyFreezeStallsAndCutAllFailsTheClient() throws Exception {
		TestWebSocketServer server = track(TestWebSocketServer.start());
		TcpProxy proxy = track(TcpProxy.start(server.port()));
		JdkClient client = JdkClient.connect("ws://127.0.0.1:" + proxy.port() + "/ws");
		client.send("through");
		assertThat(client.nextMessage()).isEqualTo("through");

		proxy.freeze();
		client.send("held");
		assertThat(client.messages.poll(300, TimeUnit.MILLISECONDS)).as("nothing while frozen").isNull();
		assertThat(server.received()).containsExactly("through");
		proxy.unfreeze();
		assertThat(client.nextMessage()).isEqualTo("held");

		proxy.cutAll();

		// An RST surfaces as onError (an IOException), not as onClose(1006) as a plain FIN does.
		assertThat(client.error()).isInstanceOf(java.io.IOException.class);
		assertThat(client.closes).isEmpty();
		await().atMost(TIMEOUT).until(() -> server.openSessions() == 0);
		assertThat(server.closeStatuses()).extracting(CloseStatus::getCode).containsExactly(1006);
	}

	private <T extends AutoCloseable> T track(T closeable) {
		this.toClose.add(closeable);
		return closeable;
	}

	/** A minimal JDK java.net.http.WebSocket client that records what it sees. */
	static final class JdkClient implements WebSocket.Listener {

		final BlockingQueue<String> messages = new LinkedBlockingQueue<>();

		final BlockingQueue<Integer> closes = new LinkedBlockingQueue<>();

		final CompletableFuture<Throwable> error = new CompletableFuture<>();

		private final StringBuilder partial = new StringBuilder();

		WebSocket webSocket;

		static JdkClient connect(String url, String... subprotocols) throws Exception {
			return connect(url, List.of(subprotocols));
		}

		static JdkClient connect(String url, List<String> subprotocols, String... headers) throws Exception {
			JdkClient client = new JdkClient();
			WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder();
			for (int i = 0; i < headers.length; i += 2) {
				builder.header(headers[i], headers[i + 1]);
			}
			if (!subprotocols.isEmpty()) {
				builder.subprotocols(subprotocols.get(0),
						subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
			}
			client.webSocket = builder.buildAsync(URI.create(url), client).get(10, TimeUnit.SECONDS);
			return client;
		}

		void send(String text) throws Exception {
			this.webSocket.sendText(text, true).get(10, TimeUnit.SECONDS);
		}

		String nextMessage() throws InterruptedException {
			String message = this.messages.poll(10, TimeUnit.SECONDS);
			assertThat(message).as("message within 10 s").isNotNull();
			return message;
		}

		int closeCode() throws InterruptedException {
			Integer code = this.closes.poll(10, TimeUnit.SECONDS);
			assertThat(code).as("close frame within 10 s").isNotNull();
			return code;
		}

		Throwable error() throws Exception {
			return this.error.get(10, TimeUnit.SECONDS);
		}

		@Override
		public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
			this.partial.append(data);
			if (last) {
				this.messages.add(this.partial.toString());
				this.partial.setLength(0);
			}
			webSocket.request(1);
			return null;
		}

		@Override
		public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
			this.closes.add(statusCode);
			return null;
		}

		@Override
		public void onError(WebSocket webSocket, Throwable error) {
			this.error.complete(error);
		}

	}

}
