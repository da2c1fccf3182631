package io.resilientws.sample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The jar that {@code ./mvnw -B package} builds runs on its own, as every Boot application ships:
 * {@code java -jar sample-app-*.jar} serves the chat, and SIGTERM drains the chat sessions with 1001.
 * Run by failsafe after {@code package}, against the repackaged jar.
 */
class ExecutableJarIT {

	@Test
	void theJarIsASpringBootExecutableJar() throws Exception {
		assertThat(Files.isRegularFile(SampleJar.jar())).isTrue();
		try (JarFile jar = new JarFile(SampleJar.jar().toFile())) {
			assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
				.isEqualTo("org.springframework.boot.loader.launch.JarLauncher");
			assertThat(jar.getManifest().getMainAttributes().getValue("Start-Class"))
				.isEqualTo(SampleApplication.class.getName());
		}
	}

	@Test
	void javaMinusJarServesTheChatAndDrainsItWith1001OnSigterm() throws Exception {
		try (SampleJar sample = SampleJar.start("--resilient-ws.client.connections.ticker.auto-startup=false")) {
			HttpResponse<String> page = HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(sample.uri("/")).build(), HttpResponse.BodyHandlers.ofString());
			assertThat(page.statusCode()).isEqualTo(200);

			Peer alice = Peer.connect(sample.port());
			Peer bob = Peer.connect(sample.port());
			alice.socket.sendText("hello from a jar", true).join();
			assertThat(bob.nextText()).contains("hello from a jar");

			// The JVM's exit status after SIGTERM with its shutdown hooks run: 128 + 15.
			assertThat(sample.stop()).as("exit status after SIGTERM").isEqualTo(143);
			assertThat(alice.closeCode.get(10, TimeUnit.SECONDS)).isEqualTo(1001);
			assertThat(bob.closeCode.get(10, TimeUnit.SECONDS)).isEqualTo(1001);
		}
	}

	private static final class Peer implements WebSocket.Listener {

		private final BlockingQueue<String> texts = new LinkedBlockingQueue<>();

		private final CompletableFuture<Integer> closeCode = new CompletableFuture<>();

		private final StringBuilder partial = new StringBuilder();

		private WebSocket socket;

		static Peer connect(int port) {
			Peer peer = new Peer();
			peer.socket = HttpClient.newHttpClient()
				.newWebSocketBuilder()
				.buildAsync(URI.create("ws://127.0.0.1:" + port + "/chat"), peer)
				.join();
			return peer;
		}

		String nextText() throws InterruptedException {
			String text = this.texts.poll(10, TimeUnit.SECONDS);
			assertThat(text).as("a message within 10 s").isNotNull();
			return text;
		}

		@Override
		public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
			this.partial.append(data);
			if (last) {
				this.texts.add(this.partial.toString());
				this.partial.setLength(0);
			}
			webSocket.request(1);
			return null;
		}

		@Override
		public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
			this.closeCode.complete(statusCode);
			return null;
		}

		@Override
		public void onError(WebSocket webSocket, Throwable error) {
			this.closeCode.completeExceptionally(error);
		}

	}

}
