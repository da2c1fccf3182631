package io.resilientws.sample;

import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.SessionSelector;

import org.springframework.stereotype.Component;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.TextWebSocketHandler;

/**
 * The chat of the javascript.info WebSocket chapter: whatever one participant sends, everyone sees.
 * The broadcast never waits on a slow participant: each session takes the message into its own
 * bounded buffer (and one that cannot keep up is closed with 1013, after which its page reconnects).
 */
@Component
class ChatEndpoint extends TextWebSocketHandler {

	private final ServerSessionRegistry sessions;

	ChatEndpoint(ServerSessionRegistry sessions) {
		this.sessions = sessions;
	}

	@Override
	protected void handleTextMessage(WebSocketSession session, TextMessage message) {
		this.sessions.broadcast(message.getPayload(), SessionSelector.endpoint(WebSocketEndpoints.CHAT));
	}

}
