package io.resilientws.client;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;

import javax.net.ssl.SSLContext;

import org.jspecify.annotations.Nullable;

/**
 * Opens WebSocket connections with the JDK's {@link java.net.http.WebSocket}: fully asynchronous
 * (connect, send, ping and close return futures), with {@code abort()} to drop a dead link without a
 * close handshake, and handshake failures that keep the HTTP response (for {@code Retry-After}).
 * <p>
 * One {@link HttpClient} per SSL bundle is shared by all connections using that bundle; each has one
 * selector thread, and all callbacks run on the shared executor.
 */
final class WebSocketConnector implements Connector {

	private static final String DEFAULT_TLS = "";

	private final Executor executor;

	private final Function<String, SSLContext> sslContexts;

	private final Map<String, HttpClient> clients = new ConcurrentHashMap<>();

	WebSocketConnector(Executor executor, Function<String, SSLContext> sslContexts) {
		this.executor = executor;
		this.sslContexts = sslContexts;
	}

	@Override
	public CompletableFuture<WebSocket> connect(ConnectionSettings settings, WebSocket.Listener listener) {
		WebSocket.Builder builder = client(settings.sslBundle()).newWebSocketBuilder()
			.connectTimeout(settings.connectTimeout());
		settings.handshakeHeaders().forEach(builder::header);
		List<String> subprotocols = settings.subprotocols();
		if (!subprotocols.isEmpty()) {
			builder.subprotocols(subprotocols.get(0),
					subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
		}
		return builder.buildAsync(settings.connectUrl(), listener);
	}

	private HttpClient client(@Nullable String sslBundle) {
		return this.clients.computeIfAbsent((sslBundle != null) ? sslBundle : DEFAULT_TLS, (name) -> {
			HttpClient.Builder builder = HttpClient.newBuilder().executor(this.executor);
			if (!name.equals(DEFAULT_TLS)) {
				builder.sslContext(this.sslContexts.apply(name));
			}
			return builder.build();
		});
	}

}
