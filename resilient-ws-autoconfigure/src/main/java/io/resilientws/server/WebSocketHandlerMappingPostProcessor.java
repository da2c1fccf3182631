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
import org.springframework.web.socket.sockjs.SockJsService;
import org.springframework.web.socket.sockjs.support.SockJsHttpRequestHandler;
import org.springframework.web.socket.sockjs.transport.TransportHandlingSockJsService;

/**
 * Puts every WebSocket endpoint of the application under the {@link ServerSessionRegistry}, without
 * the application changing its handlers.
 * <p>
 * Spring's {@code WebSocketHandlerRegistration} has no decorator hook, but every endpoint — raw
 * handlers from {@code WebSocketConfigurer} and STOMP endpoints alike — ends up as an entry of a
 * {@link WebSocketHandlerMapping}'s URL map. Right after such a mapping is instantiated (before it
 * registers that map, which happens when it receives its application context), each entry's
 * handler is wrapped in a {@link SessionTrackingHandler}, and every endpoint, SockJS ones included
 * (those of Spring's {@link TransportHandlingSockJsService}, which {@code withSockJS()} creates), gets
 * the admission interceptor last in line and the default allowed origins when it sets none of its own.
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
		List<String> defaultOrigins = sessions.settings().allowedOrigins();
		if (handler instanceof WebSocketHttpRequestHandler webSocket) {
			WebSocketHttpRequestHandler tracked = new WebSocketHttpRequestHandler(
					new SessionTrackingHandler(webSocket.getWebSocketHandler(), path, sessions),
					webSocket.getHandshakeHandler());
			tracked.setHandshakeInterceptors(admitLast(webSocket.getHandshakeInterceptors(), sessions, false));
			return tracked;
		}
		if (handler instanceof SockJsHttpRequestHandler sockJs) {
			SockJsService service = sockJs.getSockJsService();
			// One service may serve several paths: it is given admission and default origins once.
			if (service instanceof TransportHandlingSockJsService transports && !hasAdmission(transports)) {
				if (!defaultOrigins.isEmpty() && transports.getAllowedOrigins().isEmpty()
						&& transports.getAllowedOriginPatterns().isEmpty()) {
					transports.setAllowedOriginPatterns(defaultOrigins);
				}
				transports.setHandshakeInterceptors(admitLast(transports.getHandshakeInterceptors(), sessions, true));
			}
			return new SockJsHttpRequestHandler(service,
					new SessionTrackingHandler(sockJs.getWebSocketHandler(), path, sessions));
		}
		return handler;
	}

	/**
	 * The endpoint's interceptors with the default origins applied, and admission last: only a
	 * handshake that every other interceptor (the origin check included) accepted takes a place, so
	 * that a cross-origin or refused request can neither use up capacity nor find out whether any is left.
	 */
	private static List<HandshakeInterceptor> admitLast(List<HandshakeInterceptor> interceptors,
			ServerSessionRegistry sessions, boolean sockJs) {
		List<HandshakeInterceptor> chain = new ArrayList<>();
		for (HandshakeInterceptor interceptor : interceptors) {
			applyDefaultOrigins(interceptor, sessions.settings().allowedOrigins());
			chain.add(interceptor);
		}
		chain.add(new SessionAdmissionInterceptor(sessions, sockJs));
		return chain;
	}

	private static boolean hasAdmission(TransportHandlingSockJsService service) {
		return service.getHandshakeInterceptors().stream().anyMatch(SessionAdmissionInterceptor.class::isInstance);
	}

	private static void applyDefaultOrigins(HandshakeInterceptor interceptor, List<String> defaults) {
		if (!defaults.isEmpty() && interceptor instanceof OriginHandshakeInterceptor origins
				&& origins.getAllowedOrigins().isEmpty() && origins.getAllowedOriginPatterns().isEmpty()) {
			origins.setAllowedOriginPatterns(defaults);
		}
	}

}
