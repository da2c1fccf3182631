package io.resilientws.server;

import java.security.Principal;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;

/**
 * Refuses an upgrade with 503 and {@code Retry-After} when the registry is full (in all, or for this
 * user) or draining for shutdown — before the connection is accepted, so that a client is never
 * accepted and then dropped.
 * <p>
 * An admitted handshake holds a place until its session closes; a handshake that fails after this
 * interceptor (another interceptor refuses, the origin is wrong) gives its place back.
 */
final class SessionAdmissionInterceptor implements HandshakeInterceptor {

	/** Marks an admitted handshake in the attributes that become the session's. */
	static final String ADMITTED_PRINCIPAL = SessionAdmissionInterceptor.class.getName() + ".principal";

	private static final String NO_PRINCIPAL = "";

	private final ServerSessionRegistry registry;

	SessionAdmissionInterceptor(ServerSessionRegistry registry) {
		this.registry = registry;
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
		attributes.put(ADMITTED_PRINCIPAL, (principal != null) ? principal : NO_PRINCIPAL);
		return true;
	}

	@Override
	public void afterHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler wsHandler,
			@Nullable Exception exception) {
		boolean upgraded = exception == null && (!(response instanceof ServletServerHttpResponse servlet)
				|| servlet.getServletResponse().getStatus() == HttpStatus.SWITCHING_PROTOCOLS.value());
		if (!upgraded) {
			this.registry.release(principalName(request.getPrincipal()));
		}
	}

	static @Nullable String admittedPrincipal(Map<String, Object> attributes) {
		Object principal = attributes.get(ADMITTED_PRINCIPAL);
		if (principal == null) {
			return null;
		}
		return NO_PRINCIPAL.equals(principal) ? null : (String) principal;
	}

	static boolean wasAdmitted(Map<String, Object> attributes) {
		return attributes.containsKey(ADMITTED_PRINCIPAL);
	}

	private static @Nullable String principalName(@Nullable Principal principal) {
		return (principal != null) ? principal.getName() : null;
	}

}
