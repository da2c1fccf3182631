package io.resilientws.sample;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;

/**
 * The server side of the sample: plain Spring WebSocket endpoints. The starter tracks their sessions
 * without anything here saying so.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSocket
class WebSocketEndpoints implements WebSocketConfigurer {

	static final String TICKER = "/ticker";

	static final String CHAT = "/chat";

	private final TickerEndpoint tickerEndpoint;

	private final ChatEndpoint chatEndpoint;

	WebSocketEndpoints(TickerEndpoint tickerEndpoint, ChatEndpoint chatEndpoint) {
		this.tickerEndpoint = tickerEndpoint;
		this.chatEndpoint = chatEndpoint;
	}

	@Override
	public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
		registry.addHandler(this.tickerEndpoint, TICKER);
		// The chat page is served by this application, so Spring's same-origin default is right.
		registry.addHandler(this.chatEndpoint, CHAT);
	}

}
