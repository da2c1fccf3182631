package io.resilientws.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A hostile WebSocket client on a plain socket: it does the handshake, then only writes, as fast as
 * the server reads, and never reads what the server sends. Its receive buffer is small, so the
 * server's writes to it stall soon, as they would for a client that stopped reading on purpose.
 */
public final class NonReadingClient implements AutoCloseable {

	private final Socket socket;

	private final OutputStream out;

	private NonReadingClient(Socket socket) throws IOException {
		this.socket = socket;
		this.out = socket.getOutputStream();
	}

	/** Connects to {@code path} on the server at {@code port} and completes the handshake. */
	public static NonReadingClient connect(int port, String path) {
		Socket socket = new Socket();
		try {
			// Set before connecting, so the window the server sees is small from the start.
			socket.setReceiveBufferSize(4096);
			socket.setSoTimeout(10_000);
			socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
			OutputStream out = socket.getOutputStream();
			out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
					+ "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
				.getBytes(StandardCharsets.US_ASCII));
			out.flush();
			String head = readHttpHead(socket.getInputStream());
			if (!head.startsWith("HTTP/1.1 101")) {
				throw new IllegalStateException("Handshake refused: " + head);
			}
			return new NonReadingClient(socket);
		}
		catch (IOException ex) {
			closeQuietly(socket);
			throw new IllegalStateException("Could not connect to port " + port, ex);
		}
	}

	/**
	 * Writes {@code text} as masked text frames, back to back, for at most {@code limit} and at most
	 * {@code maxFrames} frames, or until the server drops the connection.
	 * @return how many frames were written
	 */
	public long flood(String text, Duration limit, long maxFrames) {
		byte[] frame = maskedTextFrame(text);
		// Many frames per write: a write per frame would measure this loop, not the server.
		int batch = Math.max(1, 8192 / frame.length);
		byte[] chunk = new byte[batch * frame.length];
		for (int i = 0; i < batch; i++) {
			System.arraycopy(frame, 0, chunk, i * frame.length, frame.length);
		}
		long deadline = System.nanoTime() + limit.toNanos();
		long written = 0;
		try {
			while (written + batch <= maxFrames && System.nanoTime() < deadline) {
				this.out.write(chunk);
				written += batch;
			}
		}
		catch (IOException serverDroppedUs) {
			// The point of the exercise: the server ended the session.
		}
		return written;
	}

	@Override
	public void close() {
		closeQuietly(this.socket);
	}

	private static byte[] maskedTextFrame(String text) {
		byte[] payload = text.getBytes(StandardCharsets.UTF_8);
		if (payload.length > 125) {
			throw new IllegalArgumentException("Only short frames are supported");
		}
		byte[] mask = { 0x11, 0x22, 0x33, 0x44 };
		byte[] frame = new byte[2 + 4 + payload.length];
		frame[0] = (byte) 0x81; // FIN, text
		frame[1] = (byte) (0x80 | payload.length); // masked, as a client must
		System.arraycopy(mask, 0, frame, 2, 4);
		for (int i = 0; i < payload.length; i++) {
			frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
		}
		return frame;
	}

	/** Reads an HTTP response head up to its blank line (or the end of the stream). */
	public static String readHttpHead(InputStream in) throws IOException {
		StringBuilder head = new StringBuilder();
		while (!head.toString().endsWith("\r\n\r\n")) {
			int next = in.read();
			if (next < 0) {
				break;
			}
			head.append((char) next);
		}
		return head.toString();
	}

	private static void closeQuietly(Socket socket) {
		try {
			socket.close();
		}
		catch (IOException ignored) {
			// Nothing left to do with it.
		}
	}

}
