package io.resilientws.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.springframework.beans.factory.config.InstantiationAwareBeanPostProcessor;
import org.springframework.web.socket.server.HandshakeInterceptor;
import org.springframework.web.socket.server.support.OriginHandshakeInterceptor;
import org.springframework.web.socket.server.support.WebSocketHandlerMapping;
import org.springframework.web.socket.server.support.WebSocketHttpRequestHandler;
import org.springframework.web.socket.sockjs.support.SockJsHttpRequestHandler;

/**
 * Puts every WebSocket endpoint of the application under the {@link ServerSessionRegistry}, without
 * the application changing its handlers.
 * <p>
 * Spring's {@code WebSocketHandlerRegistration} has no decorator hook, but every endpoint — raw
 * handlers from {@code WebSocketConfigurer} and STOMP endpoints alike — ends up as an entry of a
 * {@link WebSocketHandlerMapping}'s URL map. Right after such a mapping is instantiated (before it
 * registers that map, which happens when it receives its application context), each entry's
 * handler is wrapped in a {@link SessionTrackingHandler}, and WebSocket endpoints get the admission
 * interceptor first in line and the default allowed origins when they set none of their own.
 */
public final class WebSocketHandlerMappingPostProcessor implements InstantiationAwareBeanPostProcessor {

	private final Supplier<ServerSessionRegistry> registry;

	/** @param registry looked up on first use: post-processors are created before most beans */
	public WebSocketHandlerMappingPostProcessor(Supplier<ServerSessionRegistry> registry) {
		this.registry = registry;
	}

	@Override
	public boolean postProcessAfterInstantiation(Object bean, String beanName) {
		if (bean instanceof WebSocketHandlerMapping mapping) {
			// getUrlMap() is the live map ("with the option to add or override specific entries").
			@SuppressWarnings("unchecked")
			Map<String, Object> urlMap = (Map<String, Object>) mapping.getUrlMap();
			urlMap.replaceAll(this::track);
		}
		return true;
	}

	private Object track(String path, Object handler) {
		ServerSessionRegistry sessions = this.registry.get();
		if (handler instanceof WebSocketHttpRequestHandler webSocket) {
			WebSocketHttpRequestHandler tracked = new WebSocketHttpRequestHandler(
					new SessionTrackingHandler(webSocket.getWebSocketHandler(), path, sessions),
					webSocket.getHandshakeHandler());
			List<HandshakeInterceptor> interceptors = new ArrayList<>();
			interceptors.add(new SessionAdmissionInterceptor(sessions));
			for (HandshakeInterceptor interceptor : webSocket.getHandshakeInterceptors()) {
				applyDefaultOrigins(interceptor, sessions.settings().allowedOrigins());
				interceptors.add(interceptor);
			}
			tracked.setHandshakeInterceptors(interceptors);
			return tracked;
		}
		if (handler instanceof SockJsHttpRequestHandler sockJs) {
			return new SockJsHttpRequestHandler(sockJs.getSockJsService(),
					new SessionTrackingHandler(sockJs.getWebSocketHandler(), path, sessions));
		}
		return handler;
	}

	private static void applyDefaultOrigins(HandshakeInterceptor interceptor, List<String> defaults) {
		if (!defaults.isEmpty() && interceptor instanceof OriginHandshakeInterceptor origins
				&& origins.getAllowedOrigins().isEmpty() && origins.getAllowedOriginPatterns().isEmpty()) {
			origins.setAllowedOriginPatterns(defaults);
		}
	}

}
