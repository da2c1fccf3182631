package io.resilientws.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

class TcpProxyTest {

	/** How long a read must stay silent to count as "nothing arrived". */
	private static final int SILENCE_MS = 300;

	private final List<AutoCloseable> toClose = new ArrayList<>();

	private TargetServer target;

	private TcpProxy proxy;

	@BeforeEach
	void setUp() throws IOException {
		this.target = track(new TargetServer());
		this.proxy = track(TcpProxy.start(this.target.port()));
	}

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
	void forwardsBytesBothWays() throws Exception {
		Socket client = connectToProxy();
		Socket server = this.target.nextAccepted();

		send(client, "hello");
		assertThat(readExactly(server, 5)).isEqualTo("hello");
		send(server, "world");
		assertThat(readExactly(client, 5)).isEqualTo("world");
		assertThat(this.proxy.connectionCount()).isEqualTo(1);
	}

	@Test
	void freezeHoldsBytesInBothDirectionsAndUnfreezeDeliversThemInOrder() throws Exception {
		Socket client = connectToProxy();
		Socket server = this.target.nextAccepted();
		send(client, "warm");
		assertThat(readExactly(server, 4)).isEqualTo("warm");

		this.proxy.freeze();
		send(client, "one");
		send(client, "two");
		send(server, "three");

		assertNothingArrives(server);
		assertNothingArrives(client);
		// A frozen link is silent, not closed.
		assertThat(this.proxy.connectionCount()).isEqualTo(1);

		this.proxy.unfreeze();
		assertThat(readExactly(server, 6)).isEqualTo("onetwo");
		assertThat(readExactly(client, 5)).isEqualTo("three");
	}

	@Test
	void freezeBuildsBackpressureAndLosesNothing() throws Exception {
		Socket client = connectToProxy();
		Socket server = this.target.nextAccepted();
		// Far more than the kernel buffers plus the proxy's buffer can hold.
		byte[] payload = new byte[16 * 1024 * 1024];
		new Random(42).nextBytes(payload);

		this.proxy.freeze();
		CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
			try {
				client.getOutputStream().write(payload);
				client.getOutputStream().flush();
			}
			catch (IOException ex) {
				throw new IllegalStateException(ex);
			}
		});

		// The writer stays blocked: the frozen proxy stopped reading.
		await().during(Duration.ofMillis(SILENCE_MS)).atMost(Duration.ofSeconds(2)).until(() -> !writer.isDone());

		this.proxy.unfreeze();
		byte[] received = server.getInputStream().readNBytes(payload.length);
		assertThat(Arrays.equals(received, payload)).as("all bytes, in order").isTrue();
		writer.get(5, TimeUnit.SECONDS);
		assertThat(writer).isCompleted();
	}

	@Test
	void cutAllResetsBothSidesPromptly() throws Exception {
		Socket client = connectToProxy();
		Socket server = this.target.nextAccepted();
		send(client, "hi");
		assertThat(readExactly(server, 2)).isEqualTo("hi");

		this.proxy.cutAll();

		assertClosedAbruptly(client);
		assertClosedAbruptly(server);
		assertThat(this.proxy.connectionCount()).isZero();
	}

	@Test
	void cutAllWorksWhileFrozen() throws Exception {
		Socket client = connectToProxy();
		this.target.nextAccepted();
		assertThat(this.proxy.connectionCount()).isEqualTo(1);
		this.proxy.freeze();

		this.proxy.cutAll();

		assertClosedAbruptly(client);
		assertThat(this.proxy.connectionCount()).isZero();
	}

	@Test
	void orderlyCloseByOneSideIsPropagated() throws Exception {
		Socket client = connectToProxy();
		Socket server = this.target.nextAccepted();

		client.shutdownOutput();
		server.setSoTimeout(5_000);
		assertThat(server.getInputStream().read()).as("FIN reaches the target").isEqualTo(-1);
		// Half-closed: the other direction still works.
		send(server, "bye");
		assertThat(readExactly(client, 3)).isEqualTo("bye");

		server.close();
		await().atMost(Duration.ofSeconds(5)).until(() -> this.proxy.connectionCount() == 0);
		assertThat(client.getInputStream().read()).isEqualTo(-1);
	}

	@Test
	void retargetAffectsOnlyNewConnections() throws Exception {
		TargetServer second = track(new TargetServer());
		Socket oldClient = connectToProxy();
		Socket oldServer = this.target.nextAccepted();

		this.proxy.retarget(second.port());
		Socket newClient = connectToProxy();
		Socket newServer = second.nextAccepted();

		send(newClient, "new");
		assertThat(readExactly(newServer, 3)).isEqualTo("new");
		send(oldClient, "old");
		assertThat(readExactly(oldServer, 3)).isEqualTo("old");
		await().atMost(Duration.ofSeconds(5)).until(() -> this.proxy.connectionCount() == 2);
	}

	@Test
	void clientIsResetWhenTargetIsDown() throws Exception {
		int deadPort;
		try (ServerSocket unused = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			deadPort = unused.getLocalPort();
		}
		this.proxy.retarget(deadPort);

		Socket client = connectToProxy();

		assertClosedPromptly(client);
		assertThat(this.proxy.connectionCount()).isZero();
	}

	@Test
	void closeStopsListeningAndClosesConnections() throws Exception {
		Socket client = connectToProxy();
		this.target.nextAccepted();
		await().atMost(Duration.ofSeconds(5)).until(() -> this.proxy.connectionCount() == 1);

		this.proxy.close();

		assertThat(this.proxy.connectionCount()).isZero();
		assertClosedPromptly(client);
		try (Socket late = new Socket(InetAddress.getLoopbackAddress(), this.proxy.port())) {
			// Normally refused. A connect can still succeed if the kernel handed the freed port to
			// someone else meanwhile (even to this very socket: a TCP self-connect), but then it must
			// not be proxied.
			assertThat(this.target.accepted.poll(SILENCE_MS, TimeUnit.MILLISECONDS)).isNull();
		}
		catch (ConnectException expected) {
			assertThat(expected).hasMessageContaining("refused");
		}
	}

	private Socket connectToProxy() throws IOException {
		return track(new Socket(InetAddress.getLoopbackAddress(), this.proxy.port()));
	}

	private <T extends AutoCloseable> T track(T closeable) {
		this.toClose.add(closeable);
		return closeable;
	}

	private static void send(Socket socket, String text) throws IOException {
		OutputStream out = socket.getOutputStream();
		out.write(text.getBytes(StandardCharsets.UTF_8));
		out.flush();
	}

	private static String readExactly(Socket socket, int length) throws IOException {
		socket.setSoTimeout(5_000);
		byte[] bytes = socket.getInputStream().readNBytes(length);
		return new String(bytes, StandardCharsets.UTF_8);
	}

	private static void assertNothingArrives(Socket socket) throws IOException {
		socket.setSoTimeout(SILENCE_MS);
		InputStream in = socket.getInputStream();
		assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
	}

	/** An RST makes a blocked read fail with "Connection reset" (an orderly FIN would give -1). */
	private static void assertClosedAbruptly(Socket socket) throws IOException {
		socket.setSoTimeout(5_000);
		assertThatThrownBy(() -> socket.getInputStream().read()).isInstanceOf(SocketException.class)
			.isNotInstanceOf(SocketTimeoutException.class)
			.hasMessageContaining("reset");
	}

	/** Closed one way or the other: -1 (FIN) or an exception (RST), but not a timeout. */
	private static void assertClosedPromptly(Socket socket) throws IOException {
		socket.setSoTimeout(5_000);
		Throwable failure = catchThrowable(() -> assertThat(socket.getInputStream().read()).isEqualTo(-1));
		if (failure != null) {
			assertThat(failure).isInstanceOf(SocketException.class).isNotInstanceOf(SocketTimeoutException.class);
		}
	}

	/** A plain accepting server whose accepted sockets the test drives directly. */
	private static final class TargetServer implements AutoCloseable {

		private final ServerSocket serverSocket;

		private final BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();

		private final List<Socket> all = new CopyOnWriteArrayList<>();

		TargetServer() throws IOException {
			this.serverSocket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
			Thread acceptor = new Thread(() -> {
				try {
					while (true) {
						Socket socket = this.serverSocket.accept();
						this.all.add(socket);
						this.accepted.add(socket);
					}
				}
				catch (IOException ex) {
					// closed
				}
			}, "tcp-proxy-test-target");
			acceptor.setDaemon(true);
			acceptor.start();
		}

		int port() {
			return this.serverSocket.getLocalPort();
		}

		Socket nextAccepted() throws InterruptedException {
			Socket socket = this.accepted.poll(5, TimeUnit.SECONDS);
			assertThat(socket).as("target accepted a connection").isNotNull();
			return socket;
		}

		@Override
		public void close() throws IOException {
			this.serverSocket.close();
			for (Socket socket : this.all) {
				socket.close();
			}
		}

	}

}
