package io.resilientws.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.Principal;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.adapter.NativeWebSocketSession;
import org.springframework.web.socket.WebSocketExtension;
import org.springframework.web.socket.WebSocketMessage;
import org.springframework.web.socket.WebSocketSession;

/**
 * The session a resuming {@link ManagedSession} decorates: one logical session whose connection
 * (transport) is replaced on each resume. What the application keys on stays: the id and the
 * attributes are the first connection's. What belongs to the connection (addresses, headers,
 * limits, frames) is the current one's.
 */
final class TransportSwitch implements WebSocketSession, NativeWebSocketSession {

	private final String id;

	private final Map<String, Object> attributes;

	private volatile WebSocketSession current;

	/** @param id the logical session's id: the first connection's, or that of a session taken over */
	TransportSwitch(WebSocketSession first, String id) {
		this.id = id;
		this.attributes = first.getAttributes();
		this.current = first;
	}

	WebSocketSession current() {
		return this.current;
	}

	/** The session goes on over {@code next}; the previous connection is the caller's to end. */
	void switchTo(WebSocketSession next) {
		this.current = next;
	}

	@Override
	public String getId() {
		return this.id;
	}

	@Override
	public Map<String, Object> getAttributes() {
		return this.attributes;
	}

	@Override
	public @Nullable URI getUri() {
		return this.current.getUri();
	}

	@Override
	public HttpHeaders getHandshakeHeaders() {
		return this.current.getHandshakeHeaders();
	}

	@Override
	public @Nullable Principal getPrincipal() {
		return this.current.getPrincipal();
	}

	@Override
	public @Nullable InetSocketAddress getLocalAddress() {
		return this.current.getLocalAddress();
	}

	@Override
	public @Nullable InetSocketAddress getRemoteAddress() {
		return this.current.getRemoteAddress();
	}

	@Override
	public @Nullable String getAcceptedProtocol() {
		return this.current.getAcceptedProtocol();
	}

	@Override
	public void setTextMessageSizeLimit(int messageSizeLimit) {
		this.current.setTextMessageSizeLimit(messageSizeLimit);
	}

	@Override
	public int getTextMessageSizeLimit() {
		return this.current.getTextMessageSizeLimit();
	}

	@Override
	public void setBinaryMessageSizeLimit(int messageSizeLimit) {
		this.current.setBinaryMessageSizeLimit(messageSizeLimit);
	}

	@Override
	public int getBinaryMessageSizeLimit() {
		return this.current.getBinaryMessageSizeLimit();
	}

	@Override
	public List<WebSocketExtension> getExtensions() {
		return this.current.getExtensions();
	}

	@Override
	public void sendMessage(WebSocketMessage<?> message) throws IOException {
		this.current.sendMessage(message);
	}

	@Override
	public boolean isOpen() {
		return this.current.isOpen();
	}

	@Override
	public void close() throws IOException {
		this.current.close();
	}

	@Override
	public void close(CloseStatus status) throws IOException {
		this.current.close(status);
	}

	@Override
	public Object getNativeSession() {
		return (this.current instanceof NativeWebSocketSession nativeSession) ? nativeSession.getNativeSession()
				: this.current;
	}

	@Override
	public <T> @Nullable T getNativeSession(@Nullable Class<T> requiredType) {
		return (this.current instanceof NativeWebSocketSession nativeSession)
				? nativeSession.getNativeSession(requiredType) : null;
	}

}
