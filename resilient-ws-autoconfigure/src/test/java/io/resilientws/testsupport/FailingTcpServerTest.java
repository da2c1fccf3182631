package io.resilientws.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class FailingTcpServerTest {

	private static final byte[] REQUEST = "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

	@Test
	void resetOnAcceptCountsEachConnectionAndResetsIt() throws IOException {
		try (FailingTcpServer server = FailingTcpServer.start(FailingTcpServer.Mode.RESET_ON_ACCEPT)) {
			for (int i = 0; i < 3; i++) {
				try (Socket socket = connect(server)) {
					assertThatThrownBy(() -> readOne(socket)).isInstanceOf(SocketException.class)
						.hasMessageContaining("reset");
				}
			}

			assertThat(server.connections()).isEqualTo(3);
			assertThat(server.acceptedAtNanos()).hasSize(3).isSorted();
		}
	}

	@Test
	void resetAfterRequestReadsTheRequestFirst() throws IOException {
		try (FailingTcpServer server = FailingTcpServer.start(FailingTcpServer.Mode.RESET_AFTER_REQUEST);
				Socket socket = connect(server)) {
			socket.getOutputStream().write(REQUEST);

			assertThatThrownBy(() -> readOne(socket)).isInstanceOf(SocketException.class).hasMessageContaining("reset");
			assertThat(server.connections()).isEqualTo(1);
		}
	}

	@Test
	void closeOnAcceptEndsTheStreamWithoutAResponse() throws IOException {
		try (FailingTcpServer server = FailingTcpServer.start(FailingTcpServer.Mode.CLOSE_ON_ACCEPT);
				Socket socket = connect(server)) {
			assertThat(readOne(socket)).isEqualTo(-1);
			assertThat(server.connections()).isEqualTo(1);
		}
	}

	@Test
	void silentKeepsTheConnectionOpenWithoutAnswering() throws IOException {
		try (FailingTcpServer server = FailingTcpServer.start(FailingTcpServer.Mode.SILENT);
				Socket socket = connect(server)) {
			socket.getOutputStream().write(REQUEST);
			socket.setSoTimeout(300);

			assertThatThrownBy(() -> readOne(socket)).isInstanceOf(SocketTimeoutException.class);
			await().until(() -> server.connections() == 1);
		}
	}

	@Test
	void refusedPortRefuses() {
		int port = FailingTcpServer.refusedPort();

		assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
			.isInstanceOf(ConnectException.class);
	}

	private static Socket connect(FailingTcpServer server) throws IOException {
		Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port());
		socket.setSoTimeout(5_000);
		return socket;
	}

	private static int readOne(Socket socket) throws IOException {
		InputStream in = socket.getInputStream();
		return in.read();
	}

}
