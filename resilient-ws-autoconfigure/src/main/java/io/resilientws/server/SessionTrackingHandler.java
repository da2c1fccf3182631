package io.resilientws.server;

import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.WebSocketMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.WebSocketHandlerDecorator;

/**
 * Wraps an application's handler: registers each session on open, hands the handler the
 * {@link ManagedSession} instead of the raw one, applies the inbound limits and the application-level
 * heartbeat before the handler sees a message, and unregisters the session on close.
 */
final class SessionTrackingHandler extends WebSocketHandlerDecorator {

	private final String endpoint;

	private final ServerSessionRegistry registry;

	SessionTrackingHandler(WebSocketHandler delegate, String endpoint, ServerSessionRegistry registry) {
		super(delegate);
		this.endpoint = endpoint;
		this.registry = registry;
	}

	@Override
	public void afterConnectionEstablished(WebSocketSession session) throws Exception {
		super.afterConnectionEstablished(this.registry.opened(session, this.endpoint));
	}

	@Override
	public void handleMessage(WebSocketSession session, WebSocketMessage<?> message) throws Exception {
		ManagedSession managed = this.registry.get(session.getId());
		if (managed == null) {
			super.handleMessage(session, message);
		}
		else if (managed.inbound(message)) {
			super.handleMessage(managed, message);
		}
	}

	@Override
	public void handleTransportError(WebSocketSession session, Throwable exception) throws Exception {
		ManagedSession managed = this.registry.get(session.getId());
		super.handleTransportError((managed != null) ? managed : session, exception);
	}

	@Override
	public void afterConnectionClosed(WebSocketSession session, CloseStatus closeStatus) throws Exception {
		ManagedSession managed = this.registry.closed(session, closeStatus);
		super.afterConnectionClosed((managed != null) ? managed : session, closeStatus);
	}

}
