package io.resilientws.server;

import java.time.Duration;
import java.util.List;

import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.send.SendLimits;

/**
 * What the server registry applies to every session, validated by the auto-configuration.
 *
 * @param heartbeat ping frames to every session; a session that does not answer is terminated
 * @param appHeartbeat the text heartbeat that browsers (which cannot send pings) speak
 * @param send the send buffer of each session
 * @param overflow what a full buffer or a stalled write does
 * @param sendTimeLimit how long one write may take before the session counts as stalled
 * @param terminateCloseCode the close code sent when TERMINATE ends a slow session
 * @param maxMessageSize largest inbound message in bytes, 0 for the container's default
 * @param inboundMessagesPerSecond most inbound messages a second per session, 0 for no limit
 * @param inboundBurst inbound messages allowed at once after a quiet spell
 * @param maxSessions most concurrent sessions, 0 for no limit
 * @param maxSessionsPerPrincipal most concurrent sessions of one authenticated user, 0 for no limit
 * @param refusedRetryAfter the Retry-After of a handshake refused with 503
 * @param allowedOrigins origins allowed for endpoints that set none of their own; empty keeps
 * Spring's same-origin default
 * @param shutdown how sessions are drained when the application stops
 * @param resume whether and for how long a session outlives the loss of its connection
 */
public record ServerSettings(HeartbeatSettings heartbeat, AppHeartbeat appHeartbeat, SendLimits send,
		ServerOverflowPolicy overflow, Duration sendTimeLimit, int terminateCloseCode, long maxMessageSize,
		double inboundMessagesPerSecond, int inboundBurst, int maxSessions, int maxSessionsPerPrincipal,
		Duration refusedRetryAfter, List<String> allowedOrigins, Shutdown shutdown, Resume resume) {

	/**
	 * Session resume (docs/RESUME-PROTOCOL.md), for clients that ask for it.
	 * @param enabled whether a client may ask for it
	 * @param window how long a session whose connection was lost waits for its client to resume it
	 * @param bufferLimit the most bytes of written, unacknowledged messages one session keeps
	 * @param maxDetached the most sessions that wait for their clients at once; past it the one that has
	 * waited longest ends early
	 */
	public record Resume(boolean enabled, Duration window, long bufferLimit, int maxDetached) {

		/** Resume off. */
		public static final Resume DISABLED = new Resume(false, Duration.ofMinutes(2), 1024 * 1024, 10_000);

	}

	/**
	 * @param enabled whether the registry answers the ping text
	 * @param pingText what a client sends
	 * @param pongText what the registry answers; neither reaches the application's handler
	 */
	public record AppHeartbeat(boolean enabled, String pingText, String pongText) {
	}

	/**
	 * @param closeCode 1001 (going away) or 1012 (service restart)
	 * @param drainPeriod the time over which sessions are closed, each at a random moment, so that
	 * clients do not all reconnect in the same instant
	 * @param timeout how long each session's buffered messages may take to flush before it closes
	 */
	public record Shutdown(int closeCode, Duration drainPeriod, Duration timeout) {
	}

}
