package io.resilientws.testsupport;

import java.net.InetSocketAddress;
import java.net.URI;
import java.security.Principal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.WebSocketExtension;
import org.springframework.web.socket.WebSocketSession;

/**
 * A container's WebSocket session for tests that drive the server registry without a container: an id,
 * attributes, a URI and nothing else of a real connection. Subclasses say what a write, a close and
 * {@code isOpen} do.
 */
public abstract class FakeContainerSession implements WebSocketSession {

	private final String id;

	private final URI uri;

	private final Map<String, Object> attributes = new HashMap<>();

	protected FakeContainerSession(String id, URI uri) {
		this.id = id;
		this.uri = uri;
	}

	@Override
	public void close() {
		close(CloseStatus.NORMAL);
	}

	@Override
	public abstract void close(CloseStatus status);

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
		return this.uri;
	}

	@Override
	public HttpHeaders getHandshakeHeaders() {
		return new HttpHeaders();
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
		return 0;
	}

	@Override
	public void setBinaryMessageSizeLimit(int messageSizeLimit) {
	}

	@Override
	public int getBinaryMessageSizeLimit() {
		return 0;
	}

	@Override
	public List<WebSocketExtension> getExtensions() {
		return List.of();
	}

}
