package io.resilientws.server;

import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.WebSocketMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.WebSocketHandlerDecorator;

/**
 * Wraps an application's handler: registers each session on open, hands the handler the
 * {@link ManagedSession} instead of the raw one, applies the inbound limits and the application-level
 * heartbeat before the handler sees a message, pauses a sender whose message filled a healthy
 * session's send buffer ({@link InboundBackPressure}), and unregisters the session on close.
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
		if (this.registry.resumption().requested(session)) {
			// The handler hears of the session once the client has said whether it resumes one.
			this.registry.resumption().greet(session, this.endpoint, getDelegate());
			return;
		}
		super.afterConnectionEstablished(this.registry.opened(session, this.endpoint));
	}

	@Override
	public void handleMessage(WebSocketSession session, WebSocketMessage<?> message) throws Exception {
		// Found through the session itself, not the registry: Tomcat goes on delivering the client's
		// frames until the client's close frame arrives, after the session has been unregistered.
		ManagedSession managed = ManagedSession.of(session);
		if (managed == null) {
			if (SessionResumption.awaitsAnswer(session)) {
				this.registry.resumption().answered(session, message);
			}
			else {
				super.handleMessage(session, message);
			}
			return;
		}
		WebSocketMessage<?> forHandler = managed.inbound(session, message);
		if (forHandler != null) {
			managed.handleInbound(forHandler, () -> super.handleMessage(managed, forHandler));
		}
	}

	@Override
	public void handleTransportError(WebSocketSession session, Throwable exception) throws Exception {
		ManagedSession managed = ManagedSession.of(session);
		super.handleTransportError((managed != null) ? managed : session, exception);
	}

	@Override
	public void afterConnectionClosed(WebSocketSession session, CloseStatus closeStatus) throws Exception {
		WebSocketSession ended = this.registry.closed(session, closeStatus);
		if (ended != null) {
			super.afterConnectionClosed(ended, closeStatus);
		}
	}

}
