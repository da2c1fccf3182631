package io.resilientws.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy that tests put between a WebSocket client and server to inject real network
 * faults: a black-holed link ({@link #freeze()}), an abortive reset ({@link #cutAll()}) and a server
 * that moves ({@link #retarget(int)}).
 *
 * <p>Each accepted connection gets its own connection to {@code 127.0.0.1:targetPort} and two pump
 * threads (one per direction). Blocking I/O and plain threads keep the code obvious; this is test
 * code, not a production proxy.
 */
public final class TcpProxy implements AutoCloseable {

	private static final int BUFFER_SIZE = 16 * 1024;

	private static final int CONNECT_TIMEOUT_MS = 2_000;

	private static final AtomicInteger THREAD_COUNTER = new AtomicInteger();

	private final ServerSocket serverSocket;

	private final Set<Connection> connections = ConcurrentHashMap.newKeySet();

	/** Monitor for the frozen flag: pumps wait on it while frozen. */
	private final Object freezeLock = new Object();

	private boolean frozen; // guarded by freezeLock

	private volatile int targetPort;

	private volatile boolean closed;

	private TcpProxy(ServerSocket serverSocket, int targetPort) {
		this.serverSocket = serverSocket;
		this.targetPort = targetPort;
	}

	/** Starts a proxy listening on a random port of 127.0.0.1 that forwards to {@code 127.0.0.1:targetPort}. */
	public static TcpProxy start(int targetPort) {
		try {
			ServerSocket serverSocket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
			TcpProxy proxy = new TcpProxy(serverSocket, targetPort);
			daemon("accept", proxy::acceptLoop).start();
			return proxy;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not start TcpProxy", ex);
		}
	}

	/** The port clients should connect to. */
	public int port() {
		return this.serverSocket.getLocalPort();
	}

	/**
	 * Stops forwarding in both directions without closing anything, like a black-holed link: no
	 * FIN, no RST, the pumps simply stop reading so TCP backpressure builds up. Bytes a pump had
	 * already read are held and forwarded, in order, by {@link #unfreeze()}. Connections accepted
	 * while frozen are frozen too.
	 */
	public void freeze() {
		synchronized (this.freezeLock) {
			this.frozen = true;
		}
	}

	/** Resumes forwarding, starting with any bytes held since {@link #freeze()}. */
	public void unfreeze() {
		synchronized (this.freezeLock) {
			this.frozen = false;
			this.freezeLock.notifyAll();
		}
	}

	/**
	 * Abruptly resets every current connection: SO_LINGER 0 then close makes the kernel send RST to
	 * both the client and the target instead of an orderly FIN.
	 */
	public void cutAll() {
		for (Connection connection : this.connections) {
			connection.abort();
		}
	}

	/** New connections go to {@code 127.0.0.1:newTargetPort}; existing connections are untouched. */
	public void retarget(int newTargetPort) {
		this.targetPort = newTargetPort;
	}

	/** The number of currently open proxied connections. */
	public int connectionCount() {
		return this.connections.size();
	}

	/** Stops listening and closes every connection (orderly close, see {@link #cutAll()} for RST). */
	@Override
	public void close() {
		this.closed = true;
		closeQuietly(this.serverSocket);
		for (Connection connection : this.connections) {
			connection.close();
		}
	}

	private void acceptLoop() {
		while (!this.closed) {
			Socket client;
			try {
				client = this.serverSocket.accept();
			}
			catch (IOException ex) {
				return; // server socket closed
			}
			// Registered before the target connection exists, so that once the target has seen the
			// connection, connectionCount() and cutAll() see it too.
			Connection connection = new Connection(client, new Socket());
			this.connections.add(connection);
			if (this.closed) {
				// close() may have run between accept() and add(); don't leak this one.
				connection.close();
				continue;
			}
			try {
				client.setTcpNoDelay(true);
				connection.target.setTcpNoDelay(true);
				connection.target.connect(
						new InetSocketAddress(InetAddress.getLoopbackAddress(), this.targetPort), CONNECT_TIMEOUT_MS);
			}
			catch (IOException ex) {
				// Target down (or cut meanwhile): reset the client, as a dead port would.
				connection.abort();
				continue;
			}
			connection.start();
		}
	}

	/** Blocks while the proxy is frozen. Returns false if the connection closed meanwhile. */
	private boolean awaitUnfrozen(Connection connection) {
		synchronized (this.freezeLock) {
			while (this.frozen && !connection.closed) {
				try {
					this.freezeLock.wait();
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					return false;
				}
			}
			return !connection.closed;
		}
	}

	private static Thread daemon(String name, Runnable task) {
		Thread thread = new Thread(task, "tcp-proxy-" + name + "-" + THREAD_COUNTER.incrementAndGet());
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

	private static void abortQuietly(Socket socket) {
		try {
			socket.setSoLinger(true, 0);
		}
		catch (IOException ex) {
			// already closed: nothing left to reset
		}
		closeQuietly(socket);
	}

	/** One proxied connection: a client socket, its target socket and a pump per direction. */
	private final class Connection {

		private final Socket client;

		private final Socket target;

		/** Counts finished pumps; the connection is done when both directions have seen EOF. */
		private final AtomicInteger finishedPumps = new AtomicInteger();

		private volatile boolean closed;

		Connection(Socket client, Socket target) {
			this.client = client;
			this.target = target;
		}

		void start() {
			daemon("c2s", () -> pump(this.client, this.target)).start();
			daemon("s2c", () -> pump(this.target, this.client)).start();
		}

		private void pump(Socket from, Socket to) {
			byte[] buffer = new byte[BUFFER_SIZE];
			try {
				InputStream in = from.getInputStream();
				OutputStream out = to.getOutputStream();
				while (true) {
					// Check before reading so that a frozen proxy leaves bytes in the kernel buffers
					// (that is what makes the peer's writes back up).
					if (!awaitUnfrozen(this)) {
						return;
					}
					int read = in.read(buffer);
					// Check again: the read may have been blocked when freeze() was called. The bytes
					// stay in this buffer and go out, in order, after unfreeze().
					if (!awaitUnfrozen(this)) {
						return;
					}
					if (read < 0) {
						// Propagate the half-close (FIN) so each side sees what the other did.
						to.shutdownOutput();
						if (this.finishedPumps.incrementAndGet() == 2) {
							close();
						}
						return;
					}
					out.write(buffer, 0, read);
					out.flush();
				}
			}
			catch (IOException ex) {
				// One side reset or failed: pass the abortive close on to the other side.
				if (!this.closed) {
					abort();
				}
			}
		}

		void abort() {
			this.closed = true;
			TcpProxy.this.connections.remove(this);
			abortQuietly(this.client);
			abortQuietly(this.target);
			wakePumps();
		}

		void close() {
			this.closed = true;
			TcpProxy.this.connections.remove(this);
			closeQuietly(this.client);
			closeQuietly(this.target);
			wakePumps();
		}

		/** Frozen pumps wait on the freeze monitor; wake them so they notice the close and exit. */
		private void wakePumps() {
			synchronized (TcpProxy.this.freezeLock) {
				TcpProxy.this.freezeLock.notifyAll();
			}
		}

	}

}
