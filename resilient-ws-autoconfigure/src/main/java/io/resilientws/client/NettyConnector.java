package io.resilientws.client;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.WebSocket;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.jspecify.annotations.Nullable;

/**
 * Opens WebSocket connections with Netty's WebSocket client: exactly one TCP connection per connect
 * attempt, whatever the server does with it. The JDK's {@code HttpClient}, used before, retries a
 * handshake that was refused or reset on a second connection a few milliseconds later (its only
 * switch is JVM-wide), so a fleet reconnecting to a failing server offered it twice the connections
 * its backoff promised.
 * <p>
 * All connections share one small event loop group (no thread per connection). The name lookup runs
 * on the I/O pool, never on an event loop. {@code connect-timeout} bounds the whole attempt: TCP, TLS
 * and the upgrade response. What the state machine sees is the JDK's {@link WebSocket} API
 * ({@link NettyWebSocket}).
 */
final class NettyConnector implements Connector, AutoCloseable {

	private static final String DEFAULT_TLS = "";

	private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(
			Math.min(2, Runtime.getRuntime().availableProcessors()), new DefaultThreadFactory("resilient-ws-client", true),
			NioIoHandler.newFactory());

	private final Executor executor;

	private final Function<String, SSLContext> sslContexts;

	private final Map<String, SSLContext> tls = new ConcurrentHashMap<>();

	NettyConnector(Executor executor, Function<String, SSLContext> sslContexts) {
		this.executor = executor;
		this.sslContexts = sslContexts;
	}

	@Override
	public CompletableFuture<WebSocket> connect(ConnectionSettings settings, WebSocket.Listener listener) {
		URI url = settings.connectUrl();
		boolean secure = "wss".equalsIgnoreCase(url.getScheme());
		String host = url.getHost();
		int port = (url.getPort() != -1) ? url.getPort() : (secure ? 443 : 80);
		SSLContext sslContext = secure ? sslContext(settings.sslBundle()) : null;
		CompletableFuture<WebSocket> opened = new CompletableFuture<>();
		NettyWebSocket webSocket = new NettyWebSocket(handshaker(settings, url), settings.subprotocols(), listener, opened);
		long timeoutMillis = Math.min(settings.connectTimeout().toMillis(), Integer.MAX_VALUE);
		ScheduledFuture<?> deadline = this.group.schedule(
				() -> webSocket.attemptFailed(new HttpConnectTimeoutException("connect timed out")), timeoutMillis,
				TimeUnit.MILLISECONDS);
		opened.whenComplete((ignored, failure) -> deadline.cancel(false));
		CompletableFuture.supplyAsync(() -> new InetSocketAddress(host, port), this.executor).whenComplete((address, failure) -> {
			if (failure != null || address.isUnresolved()) {
				webSocket.attemptFailed((failure != null) ? failure : new UnknownHostException(host));
			}
			else if (!opened.isDone()) {
				open(address, host, sslContext, (int) timeoutMillis, webSocket);
			}
		});
		return opened;
	}

	private void open(InetSocketAddress address, String host, @Nullable SSLContext sslContext, int timeoutMillis,
			NettyWebSocket webSocket) {
		ChannelFuture connected = new Bootstrap().group(this.group)
			.channel(NioSocketChannel.class)
			.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
			.option(ChannelOption.TCP_NODELAY, true)
			.handler(new ChannelInitializer<SocketChannel>() {
				@Override
				protected void initChannel(SocketChannel channel) {
					if (sslContext != null) {
						channel.pipeline().addLast(tlsHandler(sslContext, host, address.getPort()));
					}
					channel.pipeline().addLast(new HttpClientCodec(), webSocket);
				}
			})
			.connect(address);
		connected.addListener((future) -> {
			if (!future.isSuccess()) {
				webSocket.attemptFailed(connectFailure(future.cause()));
			}
		});
	}

	/** Netty's own exception types, told as the JDK's, which the failure descriptions name. */
	private static Throwable connectFailure(Throwable failure) {
		if (failure instanceof io.netty.channel.ConnectTimeoutException) {
			return new HttpConnectTimeoutException("connect timed out");
		}
		if (failure instanceof ConnectException) {
			return new ConnectException(failure.getMessage());
		}
		return failure;
	}

	private static WebSocketClientHandshaker handshaker(ConnectionSettings settings, URI url) {
		HttpHeaders headers = new DefaultHttpHeaders();
		settings.handshakeHeaders().forEach(headers::add);
		List<String> subprotocols = settings.subprotocols();
		if (!subprotocols.isEmpty()) {
			// Sent as a header and checked by NettyWebSocket: Netty refuses a server that picks none.
			headers.set(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, String.join(", ", subprotocols));
		}
		// A frame over the message limit is a message over it: refused before it is buffered.
		int maxFrame = (int) Math.min(settings.maxMessageSize(), Integer.MAX_VALUE);
		// No Origin header (a browser's, which a Java client does not claim), no extensions.
		return WebSocketClientHandshakerFactory.newHandshaker(url, WebSocketVersion.V13, null, false, headers, maxFrame,
				true, false, -1, false, false);
	}

	private static SslHandler tlsHandler(SSLContext sslContext, String host, int port) {
		SSLEngine engine = sslContext.createSSLEngine(host, port);
		engine.setUseClientMode(true);
		SSLParameters parameters = engine.getSSLParameters();
		parameters.setEndpointIdentificationAlgorithm("HTTPS");
		engine.setSSLParameters(parameters);
		return new SslHandler(engine);
	}

	private SSLContext sslContext(@Nullable String sslBundle) {
		return this.tls.computeIfAbsent((sslBundle != null) ? sslBundle : DEFAULT_TLS, (name) -> {
			if (!name.equals(DEFAULT_TLS)) {
				return this.sslContexts.apply(name);
			}
			try {
				return SSLContext.getDefault();
			}
			catch (NoSuchAlgorithmException ex) {
				throw new IllegalStateException("No default TLS context", ex);
			}
		});
	}

	/** Closes every connection's socket and stops the event loops. */
	@Override
	public void close() {
		this.group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
	}

}
