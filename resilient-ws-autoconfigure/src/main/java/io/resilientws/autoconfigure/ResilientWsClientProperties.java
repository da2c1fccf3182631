package io.resilientws.autoconfigure;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import io.resilientws.client.ConnectionSettings;
import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.send.OverflowPolicy;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Managed client connections: {@code resilient-ws.client.connections.<name>.*}, each overriding
 * {@code resilient-ws.client.defaults.*}, which override the built-in defaults given here.
 * <p>
 * Every setting is null until set, so that a connection can tell "not set" (take the default) from
 * "set to the default value".
 */
@ConfigurationProperties("resilient-ws.client")
public class ResilientWsClientProperties {

	/** Settings every connection takes unless it sets its own. */
	private Connection defaults = new Connection();

	/** The connections, by name. */
	private Map<String, Connection> connections = new LinkedHashMap<>();

	/** How long application shutdown waits for connections to finish their close handshake. */
	private Duration shutdownTimeout = Duration.ofSeconds(10);

	public Connection getDefaults() {
		return this.defaults;
	}

	public void setDefaults(Connection defaults) {
		this.defaults = defaults;
	}

	public Map<String, Connection> getConnections() {
		return this.connections;
	}

	public void setConnections(Map<String, Connection> connections) {
		this.connections = connections;
	}

	public Duration getShutdownTimeout() {
		return this.shutdownTimeout;
	}

	public void setShutdownTimeout(Duration shutdownTimeout) {
		this.shutdownTimeout = shutdownTimeout;
	}

	/** One connection's settings (or the shared defaults). */
	public static class Connection {

		/** URL to connect to: ws://host:port/path or wss://... Required. */
		private @Nullable String url;

		/** Subprotocols offered in the handshake, most preferred first. */
		private @Nullable List<String> subprotocols;

		/** Extra handshake headers, such as Authorization. Never shown by the actuator endpoint or in logs. */
		private @Nullable Map<String, String> headers;

		/** Time allowed for the TCP connect and WebSocket handshake. Default 10s. */
		private @Nullable Duration connectTimeout;

		/** Time a local close waits for queued messages and the peer's close frame before dropping the link. Default 5s. */
		private @Nullable Duration closeTimeout;

		/** Whether the connection opens when the application starts. Default true. */
		private @Nullable Boolean autoStartup;

		/** Name of the spring.ssl.bundle.* bundle that wss:// connections trust (and present). Default: the JVM's trust store. */
		private @Nullable String sslBundle;

		/** Name of the ConnectionHandler bean receiving this connection's events. Default: the only ConnectionHandler bean. */
		private @Nullable String handler;

		private final Heartbeat heartbeat = new Heartbeat();

		private final Reconnect reconnect = new Reconnect();

		private final Send send = new Send();

		private final Inbound inbound = new Inbound();

		private final Health health = new Health();

		private final Resume resume = new Resume();

		void applyTo(ConnectionSettings.Builder builder) {
			set(this.url, builder::url);
			set(this.subprotocols, builder::subprotocols);
			if (this.headers != null) {
				this.headers.forEach(builder::header);
			}
			set(this.connectTimeout, builder::connectTimeout);
			set(this.closeTimeout, builder::closeTimeout);
			set(this.autoStartup, builder::autoStartup);
			set(this.sslBundle, builder::sslBundle);
			this.heartbeat.applyTo(builder);
			this.reconnect.applyTo(builder);
			this.send.applyTo(builder);
			this.inbound.applyTo(builder);
			this.resume.applyTo(builder);
		}

		// A String rather than a URI: a value that is no valid URI is reported by ConnectionSettings,
		// which names the property without printing the value (a binding failure would print it).
		public @Nullable String getUrl() {
			return this.url;
		}

		public void setUrl(@Nullable String url) {
			this.url = url;
		}

		public @Nullable List<String> getSubprotocols() {
			return this.subprotocols;
		}

		public void setSubprotocols(@Nullable List<String> subprotocols) {
			this.subprotocols = subprotocols;
		}

		public @Nullable Map<String, String> getHeaders() {
			return this.headers;
		}

		public void setHeaders(@Nullable Map<String, String> headers) {
			this.headers = headers;
		}

		public @Nullable Duration getConnectTimeout() {
			return this.connectTimeout;
		}

		public void setConnectTimeout(@Nullable Duration connectTimeout) {
			this.connectTimeout = connectTimeout;
		}

		public @Nullable Duration getCloseTimeout() {
			return this.closeTimeout;
		}

		public void setCloseTimeout(@Nullable Duration closeTimeout) {
			this.closeTimeout = closeTimeout;
		}

		public @Nullable Boolean getAutoStartup() {
			return this.autoStartup;
		}

		public void setAutoStartup(@Nullable Boolean autoStartup) {
			this.autoStartup = autoStartup;
		}

		public @Nullable String getSslBundle() {
			return this.sslBundle;
		}

		public void setSslBundle(@Nullable String sslBundle) {
			this.sslBundle = sslBundle;
		}

		public @Nullable String getHandler() {
			return this.handler;
		}

		public void setHandler(@Nullable String handler) {
			this.handler = handler;
		}

		public Heartbeat getHeartbeat() {
			return this.heartbeat;
		}

		public Reconnect getReconnect() {
			return this.reconnect;
		}

		public Send getSend() {
			return this.send;
		}

		public Inbound getInbound() {
			return this.inbound;
		}

		public Health getHealth() {
			return this.health;
		}

		public Resume getResume() {
			return this.resume;
		}

	}

	/** Session resume (docs/RESUME-PROTOCOL.md): a lost connection comes back with nothing lost or repeated. */
	public static class Resume {

		/** Whether the connection asks the server for a resumable session (adds rws-resume=1 to the URL); a server that does not answer with the protocol is used as plain WebSocket. Default false. */
		private @Nullable Boolean enabled;

		/** Most bytes of sent messages kept until the server acknowledges them; past it the session can no longer be resumed and the connection is dropped. Default 1MB. */
		private @Nullable DataSize bufferLimit;

		/** How long the client waits after the handshake for the server's first message before treating the server as plain WebSocket. Default 5s. */
		private @Nullable Duration helloTimeout;

		void applyTo(ConnectionSettings.Builder builder) {
			set(this.enabled, builder::resumeEnabled);
			set(this.bufferLimit, (limit) -> builder.resumeBufferLimit(limit.toBytes()));
			set(this.helloTimeout, builder::resumeHelloTimeout);
		}

		public @Nullable Boolean getEnabled() {
			return this.enabled;
		}

		public void setEnabled(@Nullable Boolean enabled) {
			this.enabled = enabled;
		}

		public @Nullable DataSize getBufferLimit() {
			return this.bufferLimit;
		}

		public void setBufferLimit(@Nullable DataSize bufferLimit) {
			this.bufferLimit = bufferLimit;
		}

		public @Nullable Duration getHelloTimeout() {
			return this.helloTimeout;
		}

		public void setHelloTimeout(@Nullable Duration helloTimeout) {
			this.helloTimeout = helloTimeout;
		}

	}

	/** Limits on what the server sends. */
	public static class Inbound {

		/** Largest message from the server, all fragments together; over it the client ends the connection with 1009 and does not reconnect. Default 1MB. */
		private @Nullable DataSize maxMessageSize;

		void applyTo(ConnectionSettings.Builder builder) {
			set(this.maxMessageSize, (size) -> builder.inboundMaxMessageSize(size.toBytes()));
		}

		public @Nullable DataSize getMaxMessageSize() {
			return this.maxMessageSize;
		}

		public void setMaxMessageSize(@Nullable DataSize maxMessageSize) {
			this.maxMessageSize = maxMessageSize;
		}

	}

	/** How the connection shows in the websockets health contributor (read by the health auto-configuration). */
	public static class Health {

		/** Whether the connection is part of the websockets health contributor. Default true. */
		private @Nullable Boolean enabled;

		/** How long the connection may be connecting or waiting to reconnect (health RECONNECTING) before its health is DOWN. Default 30s. */
		private @Nullable Duration downAfter;

		public @Nullable Boolean getEnabled() {
			return this.enabled;
		}

		public void setEnabled(@Nullable Boolean enabled) {
			this.enabled = enabled;
		}

		public @Nullable Duration getDownAfter() {
			return this.downAfter;
		}

		public void setDownAfter(@Nullable Duration downAfter) {
			this.downAfter = downAfter;
		}

	}

	/** Liveness checking: pings, and what counts as an answer. */
	public static class Heartbeat {

		/** Whether the connection pings its peer. Default true. */
		private @Nullable Boolean enabled;

		/** Time between pings. Default 20s. */
		private @Nullable Duration interval;

		/** Time a ping may go unanswered before it counts as missed. Default 10s. */
		private @Nullable Duration timeout;

		/** Consecutive missed pings after which the peer is declared dead (reported as 1006, then reconnected). Default 1. */
		private @Nullable Integer maxMissed;

		/** Whether any inbound frame, not only a pong, proves the peer is alive. Default true. */
		private @Nullable Boolean anyFrameCounts;

		/** FRAME sends RFC 6455 ping frames; TEXT sends ping-text messages and expects pong-text back, for paths that eat ping frames. Default FRAME. */
		private @Nullable HeartbeatMode mode;

		/** The text sent as a ping in TEXT mode. Default __rws_ping__ (what the server registry answers). */
		private @Nullable String pingText;

		/** The text expected back in TEXT mode; it is not passed to the handler. Default __rws_pong__. */
		private @Nullable String pongText;

		void applyTo(ConnectionSettings.Builder builder) {
			set(this.enabled, builder::heartbeatEnabled);
			set(this.interval, builder::heartbeatInterval);
			set(this.timeout, builder::heartbeatTimeout);
			set(this.maxMissed, builder::heartbeatMaxMissed);
			set(this.anyFrameCounts, builder::heartbeatAnyFrameCounts);
			set(this.mode, builder::heartbeatMode);
			set(this.pingText, builder::heartbeatPingText);
			set(this.pongText, builder::heartbeatPongText);
		}

		public @Nullable Boolean getEnabled() {
			return this.enabled;
		}

		public void setEnabled(@Nullable Boolean enabled) {
			this.enabled = enabled;
		}

		public @Nullable Duration getInterval() {
			return this.interval;
		}

		public void setInterval(@Nullable Duration interval) {
			this.interval = interval;
		}

		public @Nullable Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(@Nullable Duration timeout) {
			this.timeout = timeout;
		}

		public @Nullable Integer getMaxMissed() {
			return this.maxMissed;
		}

		public void setMaxMissed(@Nullable Integer maxMissed) {
			this.maxMissed = maxMissed;
		}

		public @Nullable Boolean getAnyFrameCounts() {
			return this.anyFrameCounts;
		}

		public void setAnyFrameCounts(@Nullable Boolean anyFrameCounts) {
			this.anyFrameCounts = anyFrameCounts;
		}

		public @Nullable HeartbeatMode getMode() {
			return this.mode;
		}

		public void setMode(@Nullable HeartbeatMode mode) {
			this.mode = mode;
		}

		public @Nullable String getPingText() {
			return this.pingText;
		}

		public void setPingText(@Nullable String pingText) {
			this.pingText = pingText;
		}

		public @Nullable String getPongText() {
			return this.pongText;
		}

		public void setPongText(@Nullable String pongText) {
			this.pongText = pongText;
		}

	}

	/** When and how fast a lost connection comes back. */
	public static class Reconnect {

		/** Whether lost connections reconnect. Default true. */
		private @Nullable Boolean enabled;

		/** Delay before the first attempt after a loss (jitter is added on top). Default 1s. */
		private @Nullable Duration initialDelay;

		/** Longest delay between attempts. Default 30s. */
		private @Nullable Duration maxDelay;

		/** Growth of each delay over the previous one. Default 2.0. */
		private @Nullable Double multiplier;

		/** Random time added to (or, after the first, taken from) each delay, scaled with the delay. 0 for none. Default 500ms. */
		private @Nullable Duration jitter;

		/** Attempts after a loss before giving up and staying closed. Default: no limit. */
		private @Nullable Long maxAttempts;

		/** Uptime after which a connection is stable: its next loss starts the attempt count and delays afresh. Default 30s. */
		private @Nullable Duration stableAfter;

		/** Least delay after the server closes with 1013 (Try Again Later), spread upward by jitter like a Retry-After. Default 10s. */
		private @Nullable Duration tryAgainLaterDelay;

		/** Close codes that reconnect in addition to 1001, 1006, 1011, 1012, 1013 and 1014 (for example 4000-4999 codes of your server). */
		private @Nullable Set<Integer> onCodes;

		/** Close codes that never reconnect; wins over on-codes and the built-in codes. */
		private @Nullable Set<Integer> neverOnCodes;

		void applyTo(ConnectionSettings.Builder builder) {
			set(this.enabled, builder::reconnectEnabled);
			set(this.initialDelay, builder::reconnectInitialDelay);
			set(this.maxDelay, builder::reconnectMaxDelay);
			set(this.multiplier, builder::reconnectMultiplier);
			set(this.jitter, builder::reconnectJitter);
			set(this.maxAttempts, builder::reconnectMaxAttempts);
			set(this.stableAfter, builder::reconnectStableAfter);
			set(this.tryAgainLaterDelay, builder::reconnectTryAgainLaterDelay);
			set(this.onCodes, builder::reconnectOnCodes);
			set(this.neverOnCodes, builder::neverReconnectOnCodes);
		}

		public @Nullable Boolean getEnabled() {
			return this.enabled;
		}

		public void setEnabled(@Nullable Boolean enabled) {
			this.enabled = enabled;
		}

		public @Nullable Duration getInitialDelay() {
			return this.initialDelay;
		}

		public void setInitialDelay(@Nullable Duration initialDelay) {
			this.initialDelay = initialDelay;
		}

		public @Nullable Duration getMaxDelay() {
			return this.maxDelay;
		}

		public void setMaxDelay(@Nullable Duration maxDelay) {
			this.maxDelay = maxDelay;
		}

		public @Nullable Double getMultiplier() {
			return this.multiplier;
		}

		public void setMultiplier(@Nullable Double multiplier) {
			this.multiplier = multiplier;
		}

		public @Nullable Duration getJitter() {
			return this.jitter;
		}

		public void setJitter(@Nullable Duration jitter) {
			this.jitter = jitter;
		}

		public @Nullable Long getMaxAttempts() {
			return this.maxAttempts;
		}

		public void setMaxAttempts(@Nullable Long maxAttempts) {
			this.maxAttempts = maxAttempts;
		}

		public @Nullable Duration getStableAfter() {
			return this.stableAfter;
		}

		public void setStableAfter(@Nullable Duration stableAfter) {
			this.stableAfter = stableAfter;
		}

		public @Nullable Duration getTryAgainLaterDelay() {
			return this.tryAgainLaterDelay;
		}

		public void setTryAgainLaterDelay(@Nullable Duration tryAgainLaterDelay) {
			this.tryAgainLaterDelay = tryAgainLaterDelay;
		}

		public @Nullable Set<Integer> getOnCodes() {
			return this.onCodes;
		}

		public void setOnCodes(@Nullable Set<Integer> onCodes) {
			this.onCodes = onCodes;
		}

		public @Nullable Set<Integer> getNeverOnCodes() {
			return this.neverOnCodes;
		}

		public void setNeverOnCodes(@Nullable Set<Integer> neverOnCodes) {
			this.neverOnCodes = neverOnCodes;
		}

	}

	/** The send buffer: how much may wait, and what happens beyond that. */
	public static class Send {

		/** Most bytes accepted but not yet written (the browser's bufferedAmount). Default 1MB. */
		private @Nullable DataSize bufferLimit;

		/** What a send does beyond the buffer limit: REJECT, DROP_OLDEST, BLOCK or CLOSE. Default REJECT. */
		private @Nullable OverflowPolicy overflow;

		/** Longest a send waits for room under the BLOCK policy. Default 5s. */
		private @Nullable Duration blockTimeout;

		/** Whether messages sent while the connection is down are held (within buffer-limit) and sent, in order, after it reconnects. Default false. */
		private @Nullable Boolean queueWhileDisconnected;

		private final Rate rate = new Rate();

		void applyTo(ConnectionSettings.Builder builder) {
			set(this.bufferLimit, (limit) -> builder.sendBufferLimit(limit.toBytes()));
			set(this.overflow, builder::sendOverflow);
			set(this.blockTimeout, builder::sendBlockTimeout);
			set(this.queueWhileDisconnected, builder::queueWhileDisconnected);
			if (this.rate.messagesPerSecond != null || this.rate.burst != null) {
				builder.sendRate((this.rate.messagesPerSecond != null) ? this.rate.messagesPerSecond : 0,
						(this.rate.burst != null) ? this.rate.burst : 1);
			}
		}

		public @Nullable DataSize getBufferLimit() {
			return this.bufferLimit;
		}

		public void setBufferLimit(@Nullable DataSize bufferLimit) {
			this.bufferLimit = bufferLimit;
		}

		public @Nullable OverflowPolicy getOverflow() {
			return this.overflow;
		}

		public void setOverflow(@Nullable OverflowPolicy overflow) {
			this.overflow = overflow;
		}

		public @Nullable Duration getBlockTimeout() {
			return this.blockTimeout;
		}

		public void setBlockTimeout(@Nullable Duration blockTimeout) {
			this.blockTimeout = blockTimeout;
		}

		public @Nullable Boolean getQueueWhileDisconnected() {
			return this.queueWhileDisconnected;
		}

		public void setQueueWhileDisconnected(@Nullable Boolean queueWhileDisconnected) {
			this.queueWhileDisconnected = queueWhileDisconnected;
		}

		public Rate getRate() {
			return this.rate;
		}

	}

	/** A send-rate limit for upstreams that throttle. */
	public static class Rate {

		/** Most messages written per second; queued messages wait for their turn. Default: no limit. */
		private @Nullable Double messagesPerSecond;

		/** Messages that may be written at once after a quiet spell. Default 1. */
		private @Nullable Integer burst;

		public @Nullable Double getMessagesPerSecond() {
			return this.messagesPerSecond;
		}

		public void setMessagesPerSecond(@Nullable Double messagesPerSecond) {
			this.messagesPerSecond = messagesPerSecond;
		}

		public @Nullable Integer getBurst() {
			return this.burst;
		}

		public void setBurst(@Nullable Integer burst) {
			this.burst = burst;
		}

	}

	private static <T> void set(@Nullable T value, Consumer<T> setter) {
		if (value != null) {
			setter.accept(value);
		}
	}

}
