package io.resilientws.benchmarks.jmh;

import java.net.InetSocketAddress;
import java.net.URI;
import java.lang.reflect.Proxy;
import java.security.Principal;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.SendHandler;
import jakarta.websocket.SendResult;
import jakarta.websocket.Session;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.WebSocketExtension;
import org.springframework.web.socket.WebSocketMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.adapter.NativeWebSocketSession;

/**
 * A WebSocketSession with no transport: what the registry benchmarks wrap. Its native JSR-356 session
 * (a dynamic proxy) has an asynchronous remote endpoint that completes every send at once, so the
 * registry takes the same non-blocking write path as on Tomcat.
 */
final class StubSession implements WebSocketSession, NativeWebSocketSession {

	private static final Session NATIVE = nativeSession();

	private final String id;

	private final Map<String, Object> attributes = new ConcurrentHashMap<>();

	StubSession(String id) {
		this.id = id;
	}

	@Override
	public String getId() {
		return this.id;
	}

	@Override
	public @Nullable URI getUri() {
		return null;
	}

	@Override
	public HttpHeaders getHandshakeHeaders() {
		return new HttpHeaders();
	}

	@Override
	public Map<String, Object> getAttributes() {
		return this.attributes;
	}

	@Override
	public @Nullable Principal getPrincipal() {
		return null;
	}

	@Override
	public @Nullable InetSocketAddress getLocalAddress() {
		return null;
	}

	@Override
	public @Nullable InetSocketAddress getRemoteAddress() {
		return null;
	}

	@Override
	public @Nullable String getAcceptedProtocol() {
		return null;
	}

	@Override
	public void setTextMessageSizeLimit(int messageSizeLimit) {
	}

	@Override
	public int getTextMessageSizeLimit() {
		return 8192;
	}

	@Override
	public void setBinaryMessageSizeLimit(int messageSizeLimit) {
	}

	@Override
	public int getBinaryMessageSizeLimit() {
		return 8192;
	}

	@Override
	public List<WebSocketExtension> getExtensions() {
		return List.of();
	}

	@Override
	public void sendMessage(WebSocketMessage<?> message) {
	}

	@Override
	public boolean isOpen() {
		return true;
	}

	@Override
	public void close() {
	}

	@Override
	public void close(CloseStatus status) {
	}

	@Override
	public Object getNativeSession() {
		return NATIVE;
	}

	@Override
	@SuppressWarnings("unchecked")
	public <T> @Nullable T getNativeSession(@Nullable Class<T> requiredType) {
		return (requiredType == null || requiredType.isInstance(NATIVE)) ? (T) NATIVE : null;
	}

	private static Session nativeSession() {
		Map<String, Object> userProperties = new ConcurrentHashMap<>();
		RemoteEndpoint.Async async = (RemoteEndpoint.Async) Proxy.newProxyInstance(StubSession.class.getClassLoader(),
				new Class<?>[] { RemoteEndpoint.Async.class }, (proxy, method, args) -> {
					if (args != null && args.length == 2 && args[1] instanceof SendHandler handler) {
						handler.onResult(new SendResult());
					}
					return null;
				});
		return (Session) Proxy.newProxyInstance(StubSession.class.getClassLoader(), new Class<?>[] { Session.class },
				(proxy, method, args) -> switch (method.getName()) {
					case "getAsyncRemote" -> async;
					case "getUserProperties" -> userProperties;
					case "isOpen" -> true;
					case "hashCode" -> System.identityHashCode(proxy);
					case "equals" -> proxy == args[0];
					default -> null;
				});
	}

}
