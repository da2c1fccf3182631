package io.resilientws.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An HTTP server that refuses everything: every request, WebSocket upgrades included, gets the
 * configured status (503 by default) and a {@code Retry-After: <seconds>} header. Stands in for an
 * overloaded server or a load balancer with no healthy backend, to test that clients honour
 * Retry-After instead of hammering the server.
 *
 * <p>Built on the JDK's {@code com.sun.net.httpserver}, so it needs neither Spring nor Tomcat.
 */
public final class RetryAfterServer implements AutoCloseable {

	/** Status used by {@link #start()}. */
	public static final int DEFAULT_STATUS = 503;

	/** Retry-After seconds used by {@link #start()}. */
	public static final long DEFAULT_RETRY_AFTER_SECONDS = 1;

	private final HttpServer server;

	private final int status;

	private final String retryAfter;

	private final AtomicInteger requests = new AtomicInteger();

	private RetryAfterServer(int status, String retryAfter) throws IOException {
		this.status = status;
		this.retryAfter = retryAfter;
		this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		this.server.createContext("/", this::handle);
		this.server.start();
	}

	/** Answers 503 with {@code Retry-After: 1}. */
	public static RetryAfterServer start() {
		return start(DEFAULT_STATUS, DEFAULT_RETRY_AFTER_SECONDS);
	}

	/** Answers {@code status} with {@code Retry-After: <retryAfterSeconds>}. */
	public static RetryAfterServer start(int status, long retryAfterSeconds) {
		return create(status, Long.toString(retryAfterSeconds));
	}

	/** Answers {@code status} without any Retry-After header. */
	public static RetryAfterServer startWithoutRetryAfter(int status) {
		return create(status, null);
	}

	private static RetryAfterServer create(int status, String retryAfter) {
		try {
			return new RetryAfterServer(status, retryAfter);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not start RetryAfterServer", ex);
		}
	}

	public int port() {
		return this.server.getAddress().getPort();
	}

	/** {@code ws://127.0.0.1:<port>/ws}, for pointing a WebSocket client at this server. */
	public String url() {
		return "ws://127.0.0.1:" + port() + "/ws";
	}

	/** How many requests have been answered so far. */
	public int requests() {
		return this.requests.get();
	}

	@Override
	public void close() {
		this.server.stop(0);
	}

	private void handle(HttpExchange exchange) throws IOException {
		try (exchange) {
			this.requests.incrementAndGet();
			if (this.retryAfter != null) {
				exchange.getResponseHeaders().set("Retry-After", this.retryAfter);
			}
			// -1: no body, so the response is complete as soon as the headers are sent.
			exchange.sendResponseHeaders(this.status, -1);
		}
	}

}
