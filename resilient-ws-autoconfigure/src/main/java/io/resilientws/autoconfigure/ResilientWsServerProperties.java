package io.resilientws.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.resilientws.ConfigurationChecks;
import io.resilientws.InvalidConfigurationException;
import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.send.SendLimits;
import io.resilientws.server.ServerOverflowPolicy;
import io.resilientws.server.ServerSettings;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Limits and liveness checks applied to every server WebSocket session: {@code resilient-ws.server.*}.
 */
@ConfigurationProperties("resilient-ws.server")
public class ResilientWsServerProperties {

	static final String PREFIX = "resilient-ws.server.";

	/** Whether server sessions are tracked, pinged, bounded and drained by resilient-ws. */
	private boolean enabled = true;

	/** Most concurrent sessions; further handshakes are refused with 503 and Retry-After. Default: no limit. */
	private @Nullable Integer maxSessions;

	/** Most concurrent sessions of one authenticated user. Default: no limit. */
	private @Nullable Integer maxSessionsPerPrincipal;

	/** Retry-After sent with a refused (503) handshake. */
	private Duration refusedRetryAfter = Duration.ofSeconds(10);

	/** Allowed origins (patterns) for endpoints that set none of their own. Default: Spring's same-origin check. */
	private List<String> allowedOrigins = new ArrayList<>();

	private final Heartbeat heartbeat = new Heartbeat();

	private final AppHeartbeat appHeartbeat = new AppHeartbeat();

	private final Send send = new Send();

	private final Inbound inbound = new Inbound();

	private final Shutdown shutdown = new Shutdown();

	private final Resume resume = new Resume();

	/**
	 * The validated settings.
	 * @throws InvalidConfigurationException naming the first invalid property
	 */
	ServerSettings toSettings() {
		ConfigurationChecks.positive(PREFIX + "heartbeat.interval", this.heartbeat.interval);
		ConfigurationChecks.positive(PREFIX + "heartbeat.timeout", this.heartbeat.timeout);
		if (this.appHeartbeat.enabled) {
			notBlank("app-heartbeat.ping-text", this.appHeartbeat.pingText);
			notBlank("app-heartbeat.pong-text", this.appHeartbeat.pongText);
		}
		ConfigurationChecks.positive(PREFIX + "send.buffer-limit", this.send.bufferLimit);
		ConfigurationChecks.positive(PREFIX + "send.time-limit", this.send.timeLimit);
		ConfigurationChecks.sendableCode(PREFIX + "send.terminate-close-code", this.send.terminateCloseCode);
		if (this.inbound.maxMessageSize != null) {
			ConfigurationChecks.positive(PREFIX + "inbound.max-message-size", this.inbound.maxMessageSize);
		}
		if (this.inbound.rate.messagesPerSecond != null && !(this.inbound.rate.messagesPerSecond > 0)) {
			throw new InvalidConfigurationException(PREFIX + "inbound.rate.messages-per-second",
					this.inbound.rate.messagesPerSecond, "be positive (leave it unset for no limit)");
		}
		if (this.inbound.rate.burst < 1) {
			throw new InvalidConfigurationException(PREFIX + "inbound.rate.burst", this.inbound.rate.burst,
					"be at least 1");
		}
		atLeastOne("max-sessions", this.maxSessions);
		atLeastOne("max-sessions-per-principal", this.maxSessionsPerPrincipal);
		ConfigurationChecks.positive(PREFIX + "refused-retry-after", this.refusedRetryAfter);
		ConfigurationChecks.sendableCode(PREFIX + "shutdown.close-code", this.shutdown.closeCode);
		ConfigurationChecks.positive(PREFIX + "shutdown.drain-period", this.shutdown.drainPeriod);
		ConfigurationChecks.positive(PREFIX + "shutdown.timeout", this.shutdown.timeout);
		ConfigurationChecks.positive(PREFIX + "resume.window", this.resume.window);
		ConfigurationChecks.positive(PREFIX + "resume.buffer-limit", this.resume.bufferLimit);
		if (this.resume.maxDetached < 1) {
			throw new InvalidConfigurationException(PREFIX + "resume.max-detached", this.resume.maxDetached,
					"be at least 1");
		}
		return new ServerSettings(
				new HeartbeatSettings(this.heartbeat.enabled, this.heartbeat.interval, this.heartbeat.timeout, 1, true,
						HeartbeatMode.FRAME, this.appHeartbeat.pingText, this.appHeartbeat.pongText),
				new ServerSettings.AppHeartbeat(this.appHeartbeat.enabled, this.appHeartbeat.pingText,
						this.appHeartbeat.pongText),
				new SendLimits(this.send.bufferLimit.toBytes(), this.send.overflow.queuePolicy(), Duration.ZERO, 0, 1),
				this.send.overflow, this.send.timeLimit, this.send.terminateCloseCode,
				(this.inbound.maxMessageSize != null) ? this.inbound.maxMessageSize.toBytes() : 0,
				(this.inbound.rate.messagesPerSecond != null) ? this.inbound.rate.messagesPerSecond : 0,
				this.inbound.rate.burst, (this.maxSessions != null) ? this.maxSessions : 0,
				(this.maxSessionsPerPrincipal != null) ? this.maxSessionsPerPrincipal : 0, this.refusedRetryAfter,
				List.copyOf(this.allowedOrigins),
				new ServerSettings.Shutdown(this.shutdown.closeCode, this.shutdown.drainPeriod, this.shutdown.timeout),
				new ServerSettings.Resume(this.resume.enabled, this.resume.window, this.resume.bufferLimit.toBytes(),
						this.resume.maxDetached));
	}

	private static void notBlank(String property, String value) {
		if (value.isBlank()) {
			throw new InvalidConfigurationException(PREFIX + property, "'" + value + "'",
					"not be empty (or set resilient-ws.server.app-heartbeat.enabled=false)");
		}
	}

	private static void atLeastOne(String property, @Nullable Integer value) {
		if (value != null && value < 1) {
			throw new InvalidConfigurationException(PREFIX + property, value, "be at least 1 (leave it unset for no limit)");
		}
	}

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public @Nullable Integer getMaxSessions() {
		return this.maxSessions;
	}

	public void setMaxSessions(@Nullable Integer maxSessions) {
		this.maxSessions = maxSessions;
	}

	public @Nullable Integer getMaxSessionsPerPrincipal() {
		return this.maxSessionsPerPrincipal;
	}

	public void setMaxSessionsPerPrincipal(@Nullable Integer maxSessionsPerPrincipal) {
		this.maxSessionsPerPrincipal = maxSessionsPerPrincipal;
	}

	public Duration getRefusedRetryAfter() {
		return this.refusedRetryAfter;
	}

	public void setRefusedRetryAfter(Duration refusedRetryAfter) {
		this.refusedRetryAfter = refusedRetryAfter;
	}

	public List<String> getAllowedOrigins() {
		return this.allowedOrigins;
	}

	public void setAllowedOrigins(List<String> allowedOrigins) {
		this.allowedOrigins = allowedOrigins;
	}

	public Heartbeat getHeartbeat() {
		return this.heartbeat;
	}

	public AppHeartbeat getAppHeartbeat() {
		return this.appHeartbeat;
	}

	public Send getSend() {
		return this.send;
	}

	public Inbound getInbound() {
		return this.inbound;
	}

	public Shutdown getShutdown() {
		return this.shutdown;
	}

	public Resume getResume() {
		return this.resume;
	}

	/** Ping frames to every session. */
	public static class Heartbeat {

		/** Whether every session is pinged. */
		private boolean enabled = true;

		/** Time between pings to a session. */
		private Duration interval = Duration.ofSeconds(25);

		/** Time a ping may go unanswered before the session is terminated (seen locally as 1006, counted as heartbeat-timeout). */
		private Duration timeout = Duration.ofSeconds(10);

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getInterval() {
			return this.interval;
		}

		public void setInterval(Duration interval) {
			this.interval = interval;
		}

		public Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(Duration timeout) {
			this.timeout = timeout;
		}

	}

	/** The text heartbeat of clients that cannot send ping frames (browsers). */
	public static class AppHeartbeat {

		/** Whether a message equal to ping-text is answered with pong-text instead of reaching the handler. */
		private boolean enabled = true;

		/** The text a client sends as a heartbeat. */
		private String pingText = HeartbeatSettings.DEFAULT_PING_TEXT;

		/** The text sent back. */
		private String pongText = HeartbeatSettings.DEFAULT_PONG_TEXT;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public String getPingText() {
			return this.pingText;
		}

		public void setPingText(String pingText) {
			this.pingText = pingText;
		}

		public String getPongText() {
			return this.pongText;
		}

		public void setPongText(String pongText) {
			this.pongText = pongText;
		}

	}

	/** Each session's send buffer. */
	public static class Send {

		/** Most bytes buffered for one session; beyond it the overflow policy applies. */
		private DataSize bufferLimit = DataSize.ofKilobytes(512);

		/** Longest one write to a session may take; a longer one counts as overflow (checked by a timer). */
		private Duration timeLimit = Duration.ofSeconds(10);

		/** What overflow does: TERMINATE the session, DROP_OLDEST queued messages, or DROP_NEWEST (the new one). */
		private ServerOverflowPolicy overflow = ServerOverflowPolicy.TERMINATE;

		/** Close code for sessions terminated as slow consumers. 1013 (Try Again Later) makes clients reconnect after a pause. */
		private int terminateCloseCode = 1013;

		public DataSize getBufferLimit() {
			return this.bufferLimit;
		}

		public void setBufferLimit(DataSize bufferLimit) {
			this.bufferLimit = bufferLimit;
		}

		public Duration getTimeLimit() {
			return this.timeLimit;
		}

		public void setTimeLimit(Duration timeLimit) {
			this.timeLimit = timeLimit;
		}

		public ServerOverflowPolicy getOverflow() {
			return this.overflow;
		}

		public void setOverflow(ServerOverflowPolicy overflow) {
			this.overflow = overflow;
		}

		public int getTerminateCloseCode() {
			return this.terminateCloseCode;
		}

		public void setTerminateCloseCode(int terminateCloseCode) {
			this.terminateCloseCode = terminateCloseCode;
		}

	}

	/** Limits on what a client sends. */
	public static class Inbound {

		/** Largest message accepted from a client; a larger one closes its session with 1009. Default: the container's (8KB in Tomcat). */
		private @Nullable DataSize maxMessageSize;

		private final Rate rate = new Rate();

		public @Nullable DataSize getMaxMessageSize() {
			return this.maxMessageSize;
		}

		public void setMaxMessageSize(@Nullable DataSize maxMessageSize) {
			this.maxMessageSize = maxMessageSize;
		}

		public Rate getRate() {
			return this.rate;
		}

	}

	/** Inbound message rate per session; a client over it is closed with 1008. */
	public static class Rate {

		/** Most messages a second from one session, application-level pings included. Default: no limit. */
		private @Nullable Double messagesPerSecond;

		/** Messages a session may send at once after a quiet spell. */
		private int burst = 10;

		public @Nullable Double getMessagesPerSecond() {
			return this.messagesPerSecond;
		}

		public void setMessagesPerSecond(@Nullable Double messagesPerSecond) {
			this.messagesPerSecond = messagesPerSecond;
		}

		public int getBurst() {
			return this.burst;
		}

		public void setBurst(int burst) {
			this.burst = burst;
		}

	}

	/** The drain when the application stops. */
	public static class Shutdown {

		/** Close code sent to every session: 1001 (going away) or 1012 (service restart). */
		private int closeCode = 1001;

		/** Time over which sessions are closed, each at its own moment, so clients do not reconnect all at once. */
		private Duration drainPeriod = Duration.ofSeconds(5);

		/** Time a session's buffered messages may take to flush before it is closed anyway. */
		private Duration timeout = Duration.ofSeconds(10);

		public int getCloseCode() {
			return this.closeCode;
		}

		public void setCloseCode(int closeCode) {
			this.closeCode = closeCode;
		}

		public Duration getDrainPeriod() {
			return this.drainPeriod;
		}

		public void setDrainPeriod(Duration drainPeriod) {
			this.drainPeriod = drainPeriod;
		}

		public Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(Duration timeout) {
			this.timeout = timeout;
		}

	}

	/** Session resume: one logical session across the connections of a client that asks for it. */
	public static class Resume {

		/** Whether clients may resume a session after losing its connection (docs/RESUME-PROTOCOL.md). */
		private boolean enabled;

		/** How long a session whose connection was lost waits for its client to resume it. */
		private Duration window = Duration.ofMinutes(2);

		/** Most bytes of sent, unacknowledged messages kept per session; past it the session cannot resume. */
		private DataSize bufferLimit = DataSize.ofMegabytes(1);

		/** Most sessions waiting for their clients at once; past it the one that waited longest ends early. */
		private int maxDetached = 10_000;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getWindow() {
			return this.window;
		}

		public void setWindow(Duration window) {
			this.window = window;
		}

		public DataSize getBufferLimit() {
			return this.bufferLimit;
		}

		public void setBufferLimit(DataSize bufferLimit) {
			this.bufferLimit = bufferLimit;
		}

		public int getMaxDetached() {
			return this.maxDetached;
		}

		public void setMaxDetached(int maxDetached) {
			this.maxDetached = maxDetached;
		}

	}

}
