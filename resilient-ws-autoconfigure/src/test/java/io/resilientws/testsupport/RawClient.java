package io.resilientws.testsupport;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A plain JDK WebSocket client that records what it receives, for testing the server side. Answers
 * pings (the JDK does that by itself); to make it stop answering, put a {@link TcpProxy} in between
 * and freeze it.
 */
public final class RawClient implements WebSocket.Listener, AutoCloseable {

	private static final HttpClient HTTP = HttpClient.newHttpClient();

	public final List<String> messages = new CopyOnWriteArrayList<>();

	/** Completes with the close code the server sent, or 1006 when the connection died. */
	public final CompletableFuture<Integer> closeCode = new CompletableFuture<>();

	public volatile Instant closedAt;

	private final StringBuilder partial = new StringBuilder();

	private WebSocket webSocket;

	public static RawClient connect(String url) {
		return connect(url, Map.of());
	}

	public static RawClient connect(String url, Map<String, String> headers) {
		RawClient client = new RawClient();
		WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
		headers.forEach(builder::header);
		client.webSocket = builder.buildAsync(URI.create(url), client).join();
		return client;
	}

	/** Starts a connect and returns its future, for handshakes expected to fail. */
	public static CompletableFuture<WebSocket> attempt(String url) {
		return attempt(url, Map.of());
	}

	/** Starts a connect with these handshake headers (such as {@code Origin}) and returns its future. */
	public static CompletableFuture<WebSocket> attempt(String url, Map<String, String> headers) {
		WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
		headers.forEach(builder::header);
		return builder.buildAsync(URI.create(url), new RawClient());
	}

	public void send(String text) {
		this.webSocket.sendText(text, true).join();
	}

	@Override
	public void onOpen(WebSocket webSocket) {
		webSocket.request(1);
	}

	@Override
	public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
		this.partial.append(data);
		if (last) {
			this.messages.add(this.partial.toString());
			this.partial.setLength(0);
		}
		webSocket.request(1);
		return null;
	}

	@Override
	public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
		this.closedAt = Instant.now();
		this.closeCode.complete(statusCode);
		return null;
	}

	@Override
	public void onError(WebSocket webSocket, Throwable error) {
		this.closedAt = Instant.now();
		this.closeCode.complete(1006);
	}

	@Override
	public void close() {
		if (this.webSocket != null && !this.webSocket.isOutputClosed()) {
			this.webSocket.abort();
		}
	}

}
