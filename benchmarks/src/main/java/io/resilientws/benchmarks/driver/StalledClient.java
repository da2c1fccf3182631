package io.resilientws.benchmarks.driver;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client that completes the handshake and then never reads again, with a 4 KiB receive
 * buffer: what a phone in the background or a stuck consumer looks like to the server. The server's
 * writes to it back up after a few KiB instead of the megabytes an autotuned loopback socket absorbs.
 */
public final class StalledClient implements AutoCloseable {

	private final Socket socket;

	private StalledClient(Socket socket) {
		this.socket = socket;
	}

	public static StalledClient connect(URI uri) {
		try {
			Socket socket = new Socket();
			socket.setReceiveBufferSize(4096);
			socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5000);
			byte[] nonce = new byte[16];
			ThreadLocalRandom.current().nextBytes(nonce);
			String request = "GET " + uri.getPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
					+ "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
					+ Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
			OutputStream out = socket.getOutputStream();
			out.write(request.getBytes(StandardCharsets.US_ASCII));
			out.flush();
			// Read the response headers byte by byte, so that no frame after them is consumed.
			InputStream in = socket.getInputStream();
			StringBuilder headers = new StringBuilder();
			while (!headers.toString().endsWith("\r\n\r\n")) {
				int b = in.read();
				if (b < 0) {
					throw new IOException("closed during handshake: " + headers);
				}
				headers.append((char) b);
			}
			if (!headers.toString().startsWith("HTTP/1.1 101")) {
				throw new IOException("handshake refused: " + headers);
			}
			return new StalledClient(socket);
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * Writes {@code text} (at most 125 bytes) as masked text frames, back to back, until
	 * {@code limit} has passed or the server drops the connection; never reads.
	 * @return how many frames were written
	 */
	public long flood(String text, Duration limit) {
		byte[] payload = text.getBytes(StandardCharsets.UTF_8);
		byte[] frame = new byte[6 + payload.length];
		frame[0] = (byte) 0x81;
		frame[1] = (byte) (0x80 | payload.length);
		byte[] mask = { 0x5a, 0x3c, 0x71, 0x09 };
		System.arraycopy(mask, 0, frame, 2, 4);
		for (int i = 0; i < payload.length; i++) {
			frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
		}
		// 8 KiB per write: the loop should cost the server, not this process.
		int batch = 8192 / frame.length;
		byte[] chunk = new byte[batch * frame.length];
		for (int i = 0; i < batch; i++) {
			System.arraycopy(frame, 0, chunk, i * frame.length, frame.length);
		}
		long deadline = System.nanoTime() + limit.toNanos();
		long frames = 0;
		try {
			OutputStream out = this.socket.getOutputStream();
			while (System.nanoTime() < deadline) {
				out.write(chunk);
				frames += batch;
			}
		}
		catch (IOException dropped) {
			// The server ended the session.
		}
		return frames;
	}

	@Override
	public void close() {
		try {
			this.socket.setSoLinger(true, 0);
			this.socket.close();
		}
		catch (IOException ex) {
			// gone anyway
		}
	}

}
