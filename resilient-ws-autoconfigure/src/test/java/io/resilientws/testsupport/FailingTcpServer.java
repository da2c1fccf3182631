package io.resilientws.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP server that accepts connections and fails every one of them the same way, and counts
 * what it accepted: to prove how many TCP connections a client opens per connect attempt against an
 * upstream that accepts TCP but never completes a handshake.
 *
 * <p>{@link #connections()} counts accepted connections; {@link #acceptedAtNanos()} keeps when each was
 * accepted ({@link System#nanoTime()}), so a test can see attempts that come in pairs. A refused
 * connection (nothing listening) never reaches any server and cannot be counted here; see
 * {@link #refusedPort()} for a port to point a client at instead.
 *
 * <p>One accept thread, and one short-lived thread per connection only in {@link Mode#RESET_AFTER_REQUEST}
 * (which reads the request first); test code, not a production server.
 */
public final class FailingTcpServer implements AutoCloseable {

	/** How each accepted connection fails. */
	public enum Mode {

		/** Resets (RST, SO_LINGER 0) at once, before reading anything. */
		RESET_ON_ACCEPT,

		/** Reads the request up to its blank line, then resets: a server that dies on each handshake. */
		RESET_AFTER_REQUEST,

		/** Closes (FIN) at once without a response, like a proxy with no backend. */
		CLOSE_ON_ACCEPT,

		/** Keeps the connection open and never answers, so the client's timeout ends it. */
		SILENT

	}

	private static final AtomicInteger THREAD_COUNTER = new AtomicInteger();

	private final ServerSocket serverSocket;

	private final Mode mode;

	private final List<Long> acceptedAtNanos = new CopyOnWriteArrayList<>();

	/** Connections kept open in {@link Mode#SILENT} (and in flight otherwise), closed by {@link #close()}. */
	private final Set<Socket> open = ConcurrentHashMap.newKeySet();

	private volatile boolean closed;

	private FailingTcpServer(ServerSocket serverSocket, Mode mode) {
		this.serverSocket = serverSocket;
		this.mode = mode;
	}

	/** Starts a server on a random port of 127.0.0.1 that fails every connection as {@code mode} says. */
	public static FailingTcpServer start(Mode mode) {
		try {
			FailingTcpServer server = new FailingTcpServer(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
					mode);
			daemon("accept", server::acceptLoop).start();
			return server;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not start FailingTcpServer", ex);
		}
	}

	/**
	 * A port of 127.0.0.1 where nothing listens (bound once, then released), so a connect to it is
	 * refused. Another process could take it in between; good enough for loopback tests.
	 */
	public static int refusedPort() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not find a free port", ex);
		}
	}

	public int port() {
		return this.serverSocket.getLocalPort();
	}

	/** {@code ws://127.0.0.1:<port>/ws}. */
	public String url() {
		return "ws://127.0.0.1:" + port() + "/ws";
	}

	/** How many TCP connections have been accepted so far. */
	public int connections() {
		return this.acceptedAtNanos.size();
	}

	/** When each connection was accepted, in {@link System#nanoTime()} units, in order. */
	public List<Long> acceptedAtNanos() {
		return List.copyOf(this.acceptedAtNanos);
	}

	@Override
	public void close() {
		this.closed = true;
		closeQuietly(this.serverSocket);
		this.open.forEach(FailingTcpServer::closeQuietly);
	}

	private void acceptLoop() {
		while (!this.closed) {
			Socket socket;
			try {
				socket = this.serverSocket.accept();
			}
			catch (IOException ex) {
				return;
			}
			this.acceptedAtNanos.add(System.nanoTime());
			switch (this.mode) {
				case RESET_ON_ACCEPT -> reset(socket);
				case CLOSE_ON_ACCEPT -> closeQuietly(socket);
				case SILENT -> {
					this.open.add(socket);
					if (this.closed) {
						closeQuietly(socket);
					}
				}
				case RESET_AFTER_REQUEST -> {
					this.open.add(socket);
					daemon("request", () -> resetAfterRequest(socket)).start();
				}
			}
		}
	}

	private void resetAfterRequest(Socket socket) {
		try {
			socket.setSoTimeout(5_000);
			InputStream in = socket.getInputStream();
			// The request ends with an empty line: \r\n\r\n.
			int matched = 0;
			int b;
			while (matched < 4 && (b = in.read()) != -1) {
				matched = (b == ((matched % 2 == 0) ? '\r' : '\n')) ? matched + 1 : ((b == '\r') ? 1 : 0);
			}
		}
		catch (IOException ex) {
			// the client gave up first: reset anyway
		}
		finally {
			this.open.remove(socket);
			reset(socket);
		}
	}

	private static void reset(Socket socket) {
		try {
			socket.setSoLinger(true, 0);
		}
		catch (IOException ex) {
			// already closed: nothing left to reset
		}
		closeQuietly(socket);
	}

	private static Thread daemon(String name, Runnable task) {
		Thread thread = new Thread(task, "failing-tcp-server-" + name + "-" + THREAD_COUNTER.incrementAndGet());
		thread.setDaemon(true);
		return thread;
	}

	private static void closeQuietly(AutoCloseable closeable) {
		try {
			closeable.close();
		}
		catch (Exception ex) {
			// nothing useful to do in test support code
		}
	}

}
