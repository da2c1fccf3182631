package io.resilientws.server;

import java.security.Principal;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;

/**
 * Refuses an upgrade with 503 and {@code Retry-After} when the registry is full (in all, or for this
 * user), not started yet, or draining for shutdown — before the connection is accepted, so that a
 * client is never accepted and then dropped. The {@code X-Resilient-Ws-Refused} header says which, in
 * one word ({@code capacity}, {@code principal-limit}, {@code starting} or {@code shutting-down}), never
 * the configured limits.
 * <p>
 * It is the last interceptor of an endpoint, so that only a handshake every other interceptor (the
 * origin check included) accepted takes a place: a cross-origin or unauthenticated request can
 * neither use up capacity nor learn whether there is any.
 * <p>
 * An admitted handshake holds a place until its session closes; a handshake that fails after this
 * interceptor gives its place back. For a SockJS endpoint the "handshake" is the request that creates
 * a SockJS session, over any transport: an HTTP transport answers 200 rather than 101, so there the
 * place is given back only if the request failed. Either way a place is given back once only.
 */
final class SessionAdmissionInterceptor implements HandshakeInterceptor {

	/** The admitted handshake's place, in the attributes that become the session's (and in the request's). */
	static final String PLACE = SessionAdmissionInterceptor.class.getName() + ".place";

	private final ServerSessionRegistry registry;

	private final boolean sockJs;

	/** @param sockJs whether this admits SockJS sessions (any transport) rather than WebSocket upgrades */
	SessionAdmissionInterceptor(ServerSessionRegistry registry, boolean sockJs) {
		this.registry = registry;
		this.sockJs = sockJs;
	}

	@Override
	public boolean beforeHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler wsHandler,
			Map<String, Object> attributes) {
		String principal = principalName(request.getPrincipal());
		String refusal = this.registry.admit(principal);
		if (refusal != null) {
			response.setStatusCode(HttpStatus.SERVICE_UNAVAILABLE);
			response.getHeaders()
				.set("Retry-After", String.valueOf(Math.max(1, this.registry.settings().refusedRetryAfter().toSeconds())));
			response.getHeaders().set("X-Resilient-Ws-Refused", refusal);
			return false;
		}
		Place place = new Place(principal);
		attributes.put(PLACE, place);
		if (request instanceof ServletServerHttpRequest servlet) {
			// The session's attributes are a copy of these; afterHandshake finds the place through the request.
			servlet.getServletRequest().setAttribute(PLACE, place);
		}
		return true;
	}

	@Override
	public void afterHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler wsHandler,
			@Nullable Exception exception) {
		if (succeeded(response, exception)) {
			return;
		}
		Place place = (request instanceof ServletServerHttpRequest servlet)
				? (Place) servlet.getServletRequest().getAttribute(PLACE) : null;
		if (place == null) {
			this.registry.release(principalName(request.getPrincipal()));
		}
		else if (place.claim()) {
			this.registry.release(place.principal);
		}
	}

	private boolean succeeded(ServerHttpResponse response, @Nullable Exception exception) {
		if (exception != null) {
			return false;
		}
		if (!(response instanceof ServletServerHttpResponse servlet)) {
			return true;
		}
		int status = servlet.getServletResponse().getStatus();
		return this.sockJs ? status < 400 : status == HttpStatus.SWITCHING_PROTOCOLS.value();
	}

	/**
	 * The place of an admitted session, if this call is the first to claim it back (a session's close
	 * and a failed handshake may both try).
	 */
	static @Nullable Place claim(Map<String, Object> attributes) {
		Object place = attributes.get(PLACE);
		return (place instanceof Place admitted && admitted.claim()) ? admitted : null;
	}

	private static @Nullable String principalName(@Nullable Principal principal) {
		return (principal != null) ? principal.getName() : null;
	}

	/** One admitted handshake's place in the registry, given back at most once. */
	static final class Place {

		private final @Nullable String principal;

		private final AtomicBoolean held = new AtomicBoolean(true);

		private Place(@Nullable String principal) {
			this.principal = principal;
		}

		/** The principal the place counts against, null for an anonymous session. */
		@Nullable String principal() {
			return this.principal;
		}

		private boolean claim() {
			return this.held.compareAndSet(true, false);
		}

	}

}
