package io.resilientws.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import io.resilientws.ResilientWsScheduler;
import io.resilientws.testsupport.RecordingHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a failed connect attempt says about itself (the close reason in the log, in {@code lastClose}
 * and in health) is a fixed vocabulary: the JDK's exception messages quote the response's bytes
 * (chosen by whoever answers) and the request's header values (often credentials), so neither
 * reaches the reason. The application still gets the whole exception in
 * {@link ConnectionHandler#onError}.
 */
@ExtendWith(OutputCaptureExtension.class)
class ConnectFailureTextTest {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private ResilientWsScheduler scheduler;

	private ConnectionRegistry registry;

	private HostileServer server;

	private final RecordingHandler handler = new RecordingHandler();

	@BeforeEach
	void createRegistry() {
		this.scheduler = ResilientWsScheduler.create();
		this.registry = new ConnectionRegistry(this.scheduler.taskScheduler(), (bundle) -> {
			throw new IllegalStateException("no SSL bundles in this test");
		}, (event) -> {
		}, ConnectionSettings::builder, Duration.ofSeconds(5));
	}

	@AfterEach
	void stopAll() {
		this.registry.destroy();
		this.scheduler.destroy();
		if (this.server != null) {
			this.server.close();
		}
	}

	@Test
	void aHandshakeAnsweredWithTerminalEscapesIsReportedWithoutTheServersText(CapturedOutput output) {
		this.server = HostileServer.answering("GARBAGE \u001b[31mowned token=s3cr3t\r\n\r\n");
		CloseEvent close = failOnce("ws://127.0.0.1:" + this.server.port() + "/feed");
		assertThat(close.reason()).isEqualTo("connect failed: ProtocolException");
		assertThat(this.handler.errors).singleElement()
			.satisfies((error) -> assertThat(rootOf(error)).hasMessageContaining("GARBAGE"));
		await().atMost(WAIT).until(() -> output.getOut().contains("closed (1006 connect failed: ProtocolException"));
		assertThat(output.getOut()).doesNotContain("\u001b").doesNotContain("s3cr3t");
	}

	@Test
	void anUpgradeWithASubprotocolThatWasNotOfferedSaysSoInItsOwnWords() {
		this.server = HostileServer.answering("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				+ "Connection: Upgrade\r\nSec-WebSocket-Accept: s3cr3t\r\nSec-WebSocket-Protocol: evil-s3cr3t\r\n\r\n");
		CloseEvent close = failOnce("ws://127.0.0.1:" + this.server.port() + "/feed");
		assertThat(close.reason()).isEqualTo("invalid upgrade response: a subprotocol that was not offered");
	}

	@Test
	void anUpgradeWithAWrongAcceptKeySaysSoAndKeepsTheServersTextForOnError() {
		this.server = HostileServer.answering("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				+ "Connection: Upgrade\r\nSec-WebSocket-Accept: s3cr3t\r\n\r\n");
		CloseEvent close = failOnce("ws://127.0.0.1:" + this.server.port() + "/feed");
		assertThat(close.reason()).startsWith("invalid upgrade response: not a WebSocket upgrade").doesNotContain("s3cr3t");
		assertThat(this.handler.errors).singleElement()
			.satisfies((error) -> assertThat(rootOf(error)).hasMessageContaining("s3cr3t"));
	}

	@Test
	void aTlsFailureNamesTheTlsHandshakeButNotTheMessage() {
		this.server = HostileServer.answering("HTTP/1.1 400 Not TLS\r\n\r\n");
		CloseEvent close = failOnce("wss://127.0.0.1:" + this.server.port() + "/feed");
		assertThat(close.reason()).isEqualTo("TLS handshake failed: SSLException");
	}

	@Test
	void anExceptionQuotingAHeaderValueIsDescribedByItsClassOnly() {
		IllegalArgumentException jdk = new IllegalArgumentException("invalid header value: \"Bearer s3cr3t\n\"");
		assertThat(HandshakeFailures.describe(new java.util.concurrent.CompletionException(jdk)))
			.isEqualTo("connect failed: IllegalArgumentException");
	}

	@Test
	void aLostConnectionKeepsTheMessageEscapedAndCutShort() {
		String described = HandshakeFailures.describeLoss(new java.io.IOException("reset\n" + "x".repeat(500)));
		assertThat(described).startsWith("connection lost: IOException: reset\\nxxx").doesNotContain("\n");
		assertThat(described.length()).isLessThanOrEqualTo("connection lost: IOException: ".length() + 100);
	}

	private CloseEvent failOnce(String url) {
		ConnectionSettings settings = ConnectionSettings.builder()
			.url(url)
			.reconnectEnabled(false)
			.connectTimeout(Duration.ofSeconds(5))
			.build();
		this.registry.register("hostile", settings, this.handler).start();
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		return this.handler.closes.get(0);
	}

	private static Throwable rootOf(Throwable error) {
		Throwable root = error;
		while (root.getCause() != null) {
			root = root.getCause();
		}
		return root;
	}

	/** Answers every connection with the same bytes, whatever it was sent, then closes it. */
	static final class HostileServer implements AutoCloseable {

		private final ServerSocket socket;

		private HostileServer(ServerSocket socket, byte[] answer) {
			this.socket = socket;
			Thread acceptor = new Thread(() -> {
				while (!socket.isClosed()) {
					try (Socket connection = socket.accept()) {
						connection.setSoTimeout(5000);
						InputStream in = connection.getInputStream();
						in.read(new byte[8192]);
						OutputStream out = connection.getOutputStream();
						out.write(answer);
						out.flush();
					}
					catch (IOException ex) {
						// Closed, or the client gave up: either way, on to the next one.
					}
				}
			}, "hostile-server");
			acceptor.setDaemon(true);
			acceptor.start();
		}

		static HostileServer answering(String answer) {
			try {
				return new HostileServer(new ServerSocket(0, 10, InetAddress.getLoopbackAddress()),
						answer.getBytes(StandardCharsets.ISO_8859_1));
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}

		int port() {
			return this.socket.getLocalPort();
		}

		@Override
		public void close() {
			try {
				this.socket.close();
			}
			catch (IOException ex) {
				// Nothing left to release.
			}
		}

	}

}
