package io.resilientws.sample;

import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.TextWebSocketHandler;

/**
 * Sends every connected session {@code tick <n> <time>} once a second and answers any text with
 * {@code echo: <text>}.
 * <p>
 * One scheduled task serves all sessions. Tomcat forbids two concurrent sends on one session (the tick
 * and an echo could collide), so each send holds the session's monitor. A client that stops reading
 * would hold up the tick for everyone; bounded server-side sends are not part of this sample.
 */
@Component
class TickerEndpoint extends TextWebSocketHandler {

	private static final Log logger = LogFactory.getLog(TickerEndpoint.class);

	private final Set<WebSocketSession> sessions = ConcurrentHashMap.newKeySet();

	private final AtomicLong ticks = new AtomicLong();

	@Override
	public void afterConnectionEstablished(WebSocketSession session) {
		this.sessions.add(session);
		logger.info("Ticker session " + session.getId() + " opened from " + session.getRemoteAddress());
	}

	@Override
	protected void handleTextMessage(WebSocketSession session, TextMessage message) {
		send(session, "echo: " + message.getPayload());
	}

	@Override
	public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
		this.sessions.remove(session);
		logger.info("Ticker session " + session.getId() + " closed: " + status);
	}

	@Scheduled(fixedRate = 1000)
	void tick() {
		String tick = "tick " + this.ticks.incrementAndGet() + " " + Instant.now().truncatedTo(ChronoUnit.SECONDS);
		this.sessions.forEach((session) -> send(session, tick));
	}

	private void send(WebSocketSession session, String text) {
		synchronized (session) {
			if (!session.isOpen()) {
				return;
			}
			try {
				session.sendMessage(new TextMessage(text));
			}
			catch (IOException | IllegalStateException ex) {
				logger.warn("Ticker session " + session.getId() + " failed, dropping it: " + ex);
				this.sessions.remove(session);
			}
		}
	}

}
