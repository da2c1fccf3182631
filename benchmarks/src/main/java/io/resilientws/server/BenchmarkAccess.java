package io.resilientws.server;

import org.jspecify.annotations.Nullable;

import org.springframework.web.socket.WebSocketSession;

/**
 * Benchmarks only: the registry's package-private session lifecycle, as {@code SessionTrackingHandler}
 * calls it, so that JMH can fill a registry without a container. Lives in the benchmarks module.
 */
public final class BenchmarkAccess {

	private BenchmarkAccess() {
	}

	public static ManagedSession open(ServerSessionRegistry registry, WebSocketSession session, String endpoint) {
		return registry.opened(session, endpoint);
	}

	/** Finding a session by id, as the registry's {@code find} and {@code send(id, ...)} do. */
	public static @Nullable ManagedSession get(ServerSessionRegistry registry, String sessionId) {
		return registry.find(sessionId).orElse(null);
	}

}
