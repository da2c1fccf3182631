package io.resilientws.sample;

import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.resilientws.server.ServerSessionRegistry;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.TextWebSocketHandler;

/**
 * Sends every session of {@code /ticker} {@code tick <n> <time>} once a second and answers any text
 * with {@code echo: <text>}.
 * <p>
 * No session bookkeeping and no locking: the registry knows the sessions, and the session this handler
 * is given buffers its sends, so a tick and an echo may go out at the same time and a client that
 * stops reading holds up nobody.
 */
@Component
class TickerEndpoint extends TextWebSocketHandler {

	private static final Log logger = LogFactory.getLog(TickerEndpoint.class);

	private final ServerSessionRegistry sessions;

	private final AtomicLong ticks = new AtomicLong();

	TickerEndpoint(ServerSessionRegistry sessions) {
		this.sessions = sessions;
	}

	@Override
	public void afterConnectionEstablished(WebSocketSession session) {
		logger.info("Ticker session " + session.getId() + " opened from " + session.getRemoteAddress());
	}

	@Override
	protected void handleTextMessage(WebSocketSession session, TextMessage message) throws IOException {
		session.sendMessage(new TextMessage("echo: " + message.getPayload()));
	}

	@Override
	public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
		logger.info("Ticker session " + session.getId() + " closed: " + status);
	}

	@Scheduled(fixedRate = 1000)
	void tick() {
		String tick = "tick " + this.ticks.incrementAndGet() + " " + Instant.now().truncatedTo(ChronoUnit.SECONDS);
		this.sessions.broadcastLocally(tick, (session) -> session.endpoint().equals(WebSocketEndpoints.TICKER));
	}

}
