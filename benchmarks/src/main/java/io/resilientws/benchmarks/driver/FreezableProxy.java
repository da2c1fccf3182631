package io.resilientws.benchmarks.driver;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy that can black-hole its links: {@link #freeze()} stops forwarding without
 * closing anything (no FIN, no RST), which is what a half-open link looks like to both ends. Blocking
 * I/O with two threads per link: it carries a hundred links, not the load.
 */
public final class FreezableProxy implements AutoCloseable {

	private final ServerSocket server;

	private final int targetPort;

	private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

	private final Object lock = new Object();

	private boolean frozen;

	private volatile boolean closed;

	public FreezableProxy(int targetPort) throws IOException {
		this.targetPort = targetPort;
		this.server = new ServerSocket(0, 500, InetAddress.getLoopbackAddress());
		daemon(this::accept).start();
	}

	public int port() {
		return this.server.getLocalPort();
	}

	public void freeze() {
		synchronized (this.lock) {
			this.frozen = true;
		}
	}

	public void unfreeze() {
		synchronized (this.lock) {
			this.frozen = false;
			this.lock.notifyAll();
		}
	}

	/** Resets every link (RST to both ends). */
	public void cutAll() {
		for (Socket socket : this.sockets) {
			try {
				socket.setSoLinger(true, 0);
				socket.close();
			}
			catch (IOException ex) {
				// already gone
			}
		}
		this.sockets.clear();
		synchronized (this.lock) {
			this.lock.notifyAll();
		}
	}

	private void accept() {
		while (!this.closed) {
			try {
				Socket client = this.server.accept();
				Socket target = new Socket();
				target.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), this.targetPort), 2000);
				client.setTcpNoDelay(true);
				target.setTcpNoDelay(true);
				this.sockets.add(client);
				this.sockets.add(target);
				daemon(() -> pump(client, target)).start();
				daemon(() -> pump(target, client)).start();
			}
			catch (IOException ex) {
				if (this.closed) {
					return;
				}
			}
		}
	}

	private void pump(Socket from, Socket to) {
		byte[] buffer = new byte[16384];
		try {
			InputStream in = from.getInputStream();
			OutputStream out = to.getOutputStream();
			while (true) {
				awaitUnfrozen(from);
				int read = in.read(buffer);
				if (read < 0) {
					to.shutdownOutput();
					return;
				}
				// Bytes read just before a freeze are held until the link is unfrozen or cut.
				awaitUnfrozen(from);
				out.write(buffer, 0, read);
			}
		}
		catch (IOException ex) {
			try {
				from.close();
				to.close();
			}
			catch (IOException ignored) {
				// closing anyway
			}
		}
	}

	private void awaitUnfrozen(Socket socket) throws IOException {
		synchronized (this.lock) {
			while (this.frozen) {
				if (socket.isClosed()) {
					throw new IOException("cut");
				}
				try {
					this.lock.wait(100);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					throw new IOException(ex);
				}
			}
		}
	}

	private static Thread daemon(Runnable task) {
		Thread thread = new Thread(task, "proxy");
		thread.setDaemon(true);
		return thread;
	}

	@Override
	public void close() throws IOException {
		this.closed = true;
		this.server.close();
		cutAll();
	}

}
