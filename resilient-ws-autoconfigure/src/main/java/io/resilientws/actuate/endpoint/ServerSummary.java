package io.resilientws.actuate.endpoint;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.resilientws.server.EndpointStatistics;
import io.resilientws.server.ManagedSession;
import io.resilientws.server.ServerSessionRegistry;
import org.jspecify.annotations.Nullable;

/**
 * The server part of {@code /actuator/websockets}.
 *
 * @param sessions sessions open now
 * @param sessionsPerEndpoint open sessions by endpoint path
 * @param bufferedBytes bytes buffered for all sessions
 * @param draining whether the registry is draining for shutdown
 * @param largestBuffers the sessions with the most bytes buffered (at most {@link #LARGEST}), largest first
 * @param detached resuming sessions that lost their connection and wait for their client (at most
 * {@link #LARGEST}), the soonest to expire first
 */
public record ServerSummary(int sessions, Map<String, Integer> sessionsPerEndpoint, long bufferedBytes,
		boolean draining, List<SessionDescriptor> largestBuffers, List<SessionDescriptor> detached) {

	/** How many sessions {@link #largestBuffers} lists. */
	public static final int LARGEST = 10;

	/**
	 * One session.
	 *
	 * @param id the session id
	 * @param endpoint the endpoint path
	 * @param bufferedBytes bytes buffered for it
	 * @param openSince when it opened
	 * @param lastHeartbeatRoundTrip the round trip of its latest answered ping
	 * @param unacknowledgedBytes bytes written to a resuming session's client and not yet acknowledged
	 * @param detachedUntil when a detached session ends unless its client resumes it; null for one
	 * that is connected
	 */
	public record SessionDescriptor(String id, String endpoint, long bufferedBytes, Instant openSince,
			@Nullable Duration lastHeartbeatRoundTrip, long unacknowledgedBytes, @Nullable Instant detachedUntil) {
	}

	/** The summary of the registry's sessions now. */
	public static ServerSummary of(ServerSessionRegistry registry) {
		Map<String, Integer> perEndpoint = new TreeMap<>();
		for (EndpointStatistics statistics : registry.statistics()) {
			perEndpoint.put(statistics.endpoint(), statistics.openSessions());
		}
		List<SessionDescriptor> sessions = registry.sessions()
			.stream()
			.map(ServerSummary::describe)
			.sorted(Comparator.comparingLong(SessionDescriptor::bufferedBytes).reversed())
			.toList();
		long buffered = sessions.stream().mapToLong(SessionDescriptor::bufferedBytes).sum();
		List<SessionDescriptor> detached = sessions.stream()
			.filter((session) -> session.detachedUntil() != null)
			.sorted(Comparator.comparing(SessionDescriptor::detachedUntil))
			.limit(LARGEST)
			.toList();
		return new ServerSummary(sessions.size(), perEndpoint, buffered, registry.isDraining(),
				sessions.subList(0, Math.min(LARGEST, sessions.size())), detached);
	}

	private static SessionDescriptor describe(ManagedSession session) {
		return new SessionDescriptor(session.getId(), session.endpoint(), session.bufferedAmount(), session.openedAt(),
				session.lastHeartbeatRoundTrip().orElse(null), session.unacknowledgedBytes(),
				session.detachedUntil().orElse(null));
	}

}
