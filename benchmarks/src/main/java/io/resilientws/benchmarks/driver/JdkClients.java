package io.resilientws.benchmarks.driver;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Load-generating WebSocket clients without a thread per client: the JDK's asynchronous
 * {@link java.net.http.WebSocket}, spread over a few {@link HttpClient}s (one selector thread each)
 * that share one small executor.
 */
public final class JdkClients implements AutoCloseable {

	private final ExecutorService executor;

	private final HttpClient[] clients;

	private final AtomicInteger next = new AtomicInteger();

	public JdkClients(int httpClients, int threads) {
		AtomicInteger count = new AtomicInteger();
		this.executor = Executors.newFixedThreadPool(threads, (task) -> {
			Thread thread = new Thread(task, "load-" + count.incrementAndGet());
			thread.setDaemon(true);
			return thread;
		});
		this.clients = new HttpClient[httpClients];
		for (int i = 0; i < httpClients; i++) {
			this.clients[i] = HttpClient.newBuilder().executor(this.executor).build();
		}
	}

	public CompletableFuture<WebSocket> open(URI uri, WebSocket.Listener listener) {
		HttpClient client = this.clients[Math.floorMod(this.next.getAndIncrement(), this.clients.length)];
		return client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30)).buildAsync(uri, listener);
	}

	/**
	 * Opens {@code count} connections, at most {@code inFlight} handshakes at a time (so the server's
	 * accept backlog is not what is measured). Fails if any connection fails.
	 */
	public List<WebSocket> openMany(int count, URI uri, Supplier<? extends WebSocket.Listener> listeners, int inFlight) {
		Semaphore permits = new Semaphore(inFlight);
		List<CompletableFuture<WebSocket>> opening = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			permits.acquireUninterruptibly();
			opening.add(open(uri, listeners.get()).whenComplete((ws, failure) -> permits.release()));
		}
		List<WebSocket> open = new ArrayList<>();
		for (CompletableFuture<WebSocket> future : opening) {
			open.add(future.orTimeout(60, TimeUnit.SECONDS).join());
		}
		return open;
	}

	public static void abortAll(List<WebSocket> sockets) {
		sockets.forEach(WebSocket::abort);
	}

	@Override
	public void close() {
		// Java 17's HttpClient has no shutdown: its selector thread ends once the client is unreachable.
		this.executor.shutdownNow();
	}

	/**
	 * Assembles text messages and hands each whole one on with its arrival time. Asks for unbounded
	 * demand at once: a load client should cost as little as it can per message.
	 */
	public abstract static class TextListener implements WebSocket.Listener {

		private final StringBuilder parts = new StringBuilder();

		protected abstract void received(WebSocket webSocket, CharSequence text, long arrivalNanos);

		@Override
		public void onOpen(WebSocket webSocket) {
			webSocket.request(Long.MAX_VALUE);
		}

		@Override
		public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
			long now = System.nanoTime();
			if (!last) {
				this.parts.append(data);
			}
			else if (this.parts.isEmpty()) {
				received(webSocket, data, now);
			}
			else {
				this.parts.append(data);
				received(webSocket, this.parts, now);
				this.parts.setLength(0);
			}
			return null;
		}

	}

}
