package io.resilientws.sample;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;

/**
 * The server side of the sample: a plain Spring WebSocket endpoint, nothing resilient-ws specific.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSocket
class TickerEndpointConfiguration implements WebSocketConfigurer {

	private final TickerEndpoint tickerEndpoint;

	TickerEndpointConfiguration(TickerEndpoint tickerEndpoint) {
		this.tickerEndpoint = tickerEndpoint;
	}

	@Override
	public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
		registry.addHandler(this.tickerEndpoint, "/ticker");
	}

}
