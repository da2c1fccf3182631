package io.resilientws.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

import io.resilientws.ConfigurationChecks;
import io.resilientws.InvalidConfigurationException;
import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.resume.ResumeWire;
import io.resilientws.send.OverflowPolicy;
import io.resilientws.send.SendLimits;
import org.jspecify.annotations.Nullable;

/**
 * Everything a managed connection needs to know, validated. Built with {@link #builder()}; every
 * setting has a default, only the URL is required.
 * <p>
 * Validation errors name the setting by its property path below the connection (for example
 * {@code reconnect.initial-delay}), so the auto-configuration can report the full property name.
 */
public final class ConnectionSettings {

	private final URI url;

	private final List<String> subprotocols;

	private final Map<String, String> headers;

	private final Supplier<Map<String, String>> headerSupplier;

	private final Duration connectTimeout;

	private final Duration closeTimeout;

	private final boolean autoStartup;

	private final @Nullable String sslBundle;

	private final HeartbeatSettings heartbeat;

	private final ReconnectSettings reconnect;

	private final SendLimits send;

	private final boolean queueWhileDisconnected;

	private final long maxMessageSize;

	private final ResumeSettings resume;

	private ConnectionSettings(Builder builder, URI url) {
		this.url = url;
		this.subprotocols = List.copyOf(builder.subprotocols);
		this.headers = Map.copyOf(builder.headers);
		this.headerSupplier = builder.headerSupplier;
		this.connectTimeout = builder.connectTimeout;
		this.closeTimeout = builder.closeTimeout;
		this.autoStartup = builder.autoStartup;
		this.sslBundle = builder.sslBundle;
		this.heartbeat = new HeartbeatSettings(builder.heartbeatEnabled, builder.heartbeatInterval,
				builder.heartbeatTimeout, builder.heartbeatMaxMissed, builder.anyFrameCounts, builder.heartbeatMode,
				builder.pingText, builder.pongText);
		this.reconnect = new ReconnectSettings(builder.reconnectEnabled, builder.initialDelay, builder.maxDelay,
				builder.multiplier, builder.jitter, builder.maxAttempts, builder.stableAfter,
				builder.tryAgainLaterDelay, new ReconnectPolicy(builder.reconnectOnCodes, builder.neverReconnectOnCodes));
		this.send = new SendLimits(builder.bufferLimit, builder.overflow, builder.blockTimeout,
				builder.messagesPerSecond, builder.burst);
		this.queueWhileDisconnected = builder.queueWhileDisconnected;
		this.maxMessageSize = builder.maxMessageSize;
		this.resume = new ResumeSettings(builder.resumeEnabled, builder.resumeBufferLimit, builder.resumeHelloTimeout);
	}

	public static Builder builder() {
		return new Builder();
	}

	/** The ws:// or wss:// URL to connect to. */
	public URI url() {
		return this.url;
	}

	/**
	 * The URL each connect attempt uses: {@link #url()}, with {@code rws-resume=1} added to its query
	 * when resume is enabled (the user's query is kept; no credential of the protocol ever goes here).
	 */
	public URI connectUrl() {
		if (!this.resume.enabled()) {
			return this.url;
		}
		String parameter = ResumeWire.QUERY_PARAMETER + "=" + ResumeWire.VERSION;
		String whole = this.url.toString();
		int fragment = whole.indexOf('#');
		String beforeFragment = (fragment < 0) ? whole : whole.substring(0, fragment);
		String query = this.url.getRawQuery();
		String separator = (query == null) ? "?" : (query.isEmpty() || query.endsWith("&")) ? "" : "&";
		return URI.create(beforeFragment + separator + parameter + ((fragment < 0) ? "" : whole.substring(fragment)));
	}

	/**
	 * The URL without user info and query string, safe to log or show: both often carry credentials.
	 */
	public String redactedUrl() {
		return redact(this.url);
	}

	/**
	 * {@code url} without user info, query string and fragment, for any URI (also one that is not a
	 * valid WebSocket URL, for error messages). An authority that names no host is left out entirely,
	 * as is the body of an opaque URI: either may hold a credential that could not be separated.
	 */
	public static String redact(URI url) {
		StringBuilder safe = new StringBuilder();
		if (url.getScheme() != null) {
			safe.append(url.getScheme()).append(':');
		}
		if (url.isOpaque()) {
			return safe.append("...").toString();
		}
		if (url.getHost() != null) {
			safe.append("//").append(url.getHost());
			if (url.getPort() != -1) {
				safe.append(':').append(url.getPort());
			}
		}
		else if (url.getRawAuthority() != null) {
			safe.append("//...");
		}
		else if (url.getScheme() != null) {
			safe.append("//");
		}
		if (url.getRawPath() != null) {
			safe.append(url.getRawPath());
		}
		return safe.toString();
	}

	/** Subprotocols offered in the handshake, most preferred first. */
	public List<String> subprotocols() {
		return this.subprotocols;
	}

	/**
	 * Extra handshake headers, checked as the JDK's HTTP client would check them (no control
	 * characters in values, no header the handshake sets itself). Never shown in any output: they
	 * often carry credentials.
	 */
	public Map<String, String> headers() {
		return this.headers;
	}

	/**
	 * Headers computed anew for every connect attempt (a rotated token, say), added to
	 * {@link #headers()} and winning over them; empty when none is set.
	 */
	public Supplier<Map<String, String>> headerSupplier() {
		return this.headerSupplier;
	}

	/** The headers of one connect attempt: the fixed ones, then the supplier's, checked like the fixed ones. */
	Map<String, String> handshakeHeaders() {
		Map<String, String> supplied = this.headerSupplier.get();
		if (supplied == null || supplied.isEmpty()) {
			return this.headers;
		}
		HandshakeHeaders.validate(supplied);
		Map<String, String> all = new LinkedHashMap<>(this.headers);
		all.putAll(supplied);
		return all;
	}

	public Duration connectTimeout() {
		return this.connectTimeout;
	}

	/** How long a local close waits for queued messages and the peer's close frame before aborting. */
	public Duration closeTimeout() {
		return this.closeTimeout;
	}

	public boolean autoStartup() {
		return this.autoStartup;
	}

	/** The SSL bundle for wss:// connections; null for the JVM's default trust. */
	public @Nullable String sslBundle() {
		return this.sslBundle;
	}

	public HeartbeatSettings heartbeat() {
		return this.heartbeat;
	}

	public ReconnectSettings reconnect() {
		return this.reconnect;
	}

	public SendLimits send() {
		return this.send;
	}

	/** Whether messages sent while the connection is down are held and sent after it reconnects. */
	public boolean queueWhileDisconnected() {
		return this.queueWhileDisconnected;
	}

	/**
	 * The largest message (UTF-8 bytes of a text, bytes of a binary, all fragments together) the server
	 * may send; a larger one ends the connection with 1009 and no reconnect. Default 1 MiB.
	 */
	public long maxMessageSize() {
		return this.maxMessageSize;
	}

	/** Session resume: off by default. */
	public ResumeSettings resume() {
		return this.resume;
	}

	/**
	 * Collects settings; {@link #build()} validates them all. Setters take the raw value and reject
	 * nothing, so that every problem is reported with the name of its property.
	 */
	public static final class Builder {

		private @Nullable URI url;

		/** Whether the URL was given as text that is no valid URI. */
		private boolean urlInvalid;

		private List<String> subprotocols = new ArrayList<>();

		private Map<String, String> headers = new LinkedHashMap<>();

		private Supplier<Map<String, String>> headerSupplier = Map::of;

		private Duration connectTimeout = Duration.ofSeconds(10);

		private Duration closeTimeout = Duration.ofSeconds(5);

		private boolean autoStartup = true;

		private @Nullable String sslBundle;

		private boolean heartbeatEnabled = true;

		private Duration heartbeatInterval = Duration.ofSeconds(20);

		private Duration heartbeatTimeout = Duration.ofSeconds(10);

		private int heartbeatMaxMissed = 1;

		private boolean anyFrameCounts = true;

		private HeartbeatMode heartbeatMode = HeartbeatMode.FRAME;

		private String pingText = HeartbeatSettings.DEFAULT_PING_TEXT;

		private String pongText = HeartbeatSettings.DEFAULT_PONG_TEXT;

		private boolean reconnectEnabled = true;

		private Duration initialDelay = Duration.ofSeconds(1);

		private Duration maxDelay = Duration.ofSeconds(30);

		private double multiplier = 2.0;

		private Duration jitter = Duration.ofMillis(500);

		private long maxAttempts = Long.MAX_VALUE;

		private Duration stableAfter = Duration.ofSeconds(30);

		private Duration tryAgainLaterDelay = Duration.ofSeconds(10);

		private Set<Integer> reconnectOnCodes = new TreeSet<>();

		private Set<Integer> neverReconnectOnCodes = new TreeSet<>();

		private long bufferLimit = 1024 * 1024;

		private OverflowPolicy overflow = OverflowPolicy.REJECT;

		private Duration blockTimeout = Duration.ofSeconds(5);

		private double messagesPerSecond;

		private int burst = 1;

		private boolean queueWhileDisconnected;

		private long maxMessageSize = 1024 * 1024;

		private boolean resumeEnabled;

		private long resumeBufferLimit = ResumeSettings.DEFAULT_BUFFER_LIMIT;

		private Duration resumeHelloTimeout = ResumeSettings.DEFAULT_HELLO_TIMEOUT;

		private Builder() {
		}

		public Builder url(URI url) {
			this.url = url;
			this.urlInvalid = false;
			return this;
		}

		/** A URL that is no valid URI is reported by {@link #build()}, without its text (it may hold a credential). */
		public Builder url(String url) {
			try {
				return url(new URI(url));
			}
			catch (URISyntaxException ex) {
				this.url = null;
				this.urlInvalid = true;
				return this;
			}
		}

		public Builder subprotocols(List<String> subprotocols) {
			this.subprotocols = new ArrayList<>(subprotocols);
			return this;
		}

		public Builder headers(Map<String, String> headers) {
			this.headers = new LinkedHashMap<>(headers);
			return this;
		}

		public Builder header(String name, String value) {
			this.headers.put(name, value);
			return this;
		}

		/**
		 * Headers to compute anew before every connect attempt, such as a token that rotates without a
		 * restart; they are added to the fixed headers and win over them. Called outside any lock on a
		 * resilient-ws thread (the scheduler's or the I/O pool's), so return quickly, from a cache. A
		 * supplier that throws, or returns a header the handshake may not carry, fails that attempt
		 * (retried with backoff) without the value appearing anywhere.
		 */
		public Builder headerSupplier(Supplier<Map<String, String>> headerSupplier) {
			this.headerSupplier = headerSupplier;
			return this;
		}

		public Builder connectTimeout(Duration connectTimeout) {
			this.connectTimeout = connectTimeout;
			return this;
		}

		public Builder closeTimeout(Duration closeTimeout) {
			this.closeTimeout = closeTimeout;
			return this;
		}

		public Builder autoStartup(boolean autoStartup) {
			this.autoStartup = autoStartup;
			return this;
		}

		public Builder sslBundle(@Nullable String sslBundle) {
			this.sslBundle = sslBundle;
			return this;
		}

		public Builder heartbeatEnabled(boolean enabled) {
			this.heartbeatEnabled = enabled;
			return this;
		}

		public Builder heartbeatInterval(Duration interval) {
			this.heartbeatInterval = interval;
			return this;
		}

		public Builder heartbeatTimeout(Duration timeout) {
			this.heartbeatTimeout = timeout;
			return this;
		}

		public Builder heartbeatMaxMissed(int maxMissed) {
			this.heartbeatMaxMissed = maxMissed;
			return this;
		}

		public Builder heartbeatAnyFrameCounts(boolean anyFrameCounts) {
			this.anyFrameCounts = anyFrameCounts;
			return this;
		}

		public Builder heartbeatMode(HeartbeatMode mode) {
			this.heartbeatMode = mode;
			return this;
		}

		public Builder heartbeatPingText(String pingText) {
			this.pingText = pingText;
			return this;
		}

		public Builder heartbeatPongText(String pongText) {
			this.pongText = pongText;
			return this;
		}

		public Builder reconnectEnabled(boolean enabled) {
			this.reconnectEnabled = enabled;
			return this;
		}

		public Builder reconnectInitialDelay(Duration initialDelay) {
			this.initialDelay = initialDelay;
			return this;
		}

		public Builder reconnectMaxDelay(Duration maxDelay) {
			this.maxDelay = maxDelay;
			return this;
		}

		public Builder reconnectMultiplier(double multiplier) {
			this.multiplier = multiplier;
			return this;
		}

		public Builder reconnectJitter(Duration jitter) {
			this.jitter = jitter;
			return this;
		}

		/** Attempts after a loss before giving up; {@link Long#MAX_VALUE} (the default) for no limit. */
		public Builder reconnectMaxAttempts(long maxAttempts) {
			this.maxAttempts = maxAttempts;
			return this;
		}

		public Builder reconnectStableAfter(Duration stableAfter) {
			this.stableAfter = stableAfter;
			return this;
		}

		public Builder reconnectTryAgainLaterDelay(Duration delay) {
			this.tryAgainLaterDelay = delay;
			return this;
		}

		public Builder reconnectOnCodes(Set<Integer> codes) {
			this.reconnectOnCodes = new TreeSet<>(codes);
			return this;
		}

		public Builder neverReconnectOnCodes(Set<Integer> codes) {
			this.neverReconnectOnCodes = new TreeSet<>(codes);
			return this;
		}

		public Builder sendBufferLimit(long bytes) {
			this.bufferLimit = bytes;
			return this;
		}

		public Builder sendOverflow(OverflowPolicy overflow) {
			this.overflow = overflow;
			return this;
		}

		public Builder sendBlockTimeout(Duration blockTimeout) {
			this.blockTimeout = blockTimeout;
			return this;
		}

		/** Most messages written a second (0, the default, for no limit) and how many may go at once. */
		public Builder sendRate(double messagesPerSecond, int burst) {
			this.messagesPerSecond = messagesPerSecond;
			this.burst = burst;
			return this;
		}

		public Builder queueWhileDisconnected(boolean queue) {
			this.queueWhileDisconnected = queue;
			return this;
		}

		/** The largest inbound message in bytes; default 1 MiB. */
		public Builder inboundMaxMessageSize(long bytes) {
			this.maxMessageSize = bytes;
			return this;
		}

		/** Whether the connection asks for a resumable session (docs/RESUME-PROTOCOL.md); default false. */
		public Builder resumeEnabled(boolean enabled) {
			this.resumeEnabled = enabled;
			return this;
		}

		/** Most bytes of written, unacknowledged messages kept for a resume; default 1 MiB. */
		public Builder resumeBufferLimit(long bytes) {
			this.resumeBufferLimit = bytes;
			return this;
		}

		/** How long to wait for the server's first message before treating it as plain WebSocket; default 5 s. */
		public Builder resumeHelloTimeout(Duration timeout) {
			this.resumeHelloTimeout = timeout;
			return this;
		}

		/**
		 * Validates and builds.
		 * @throws InvalidConfigurationException naming the first invalid setting
		 */
		public ConnectionSettings build() {
			checkUrlSyntax();
			URI target = this.url;
			if (target == null) {
				throw new InvalidConfigurationException("url", null, "be set to a ws:// or wss:// URL");
			}
			validate(target);
			return new ConnectionSettings(this, target);
		}

		/** Validates every setting but the URL, for shared defaults that have none. */
		public void validateWithoutUrl() {
			checkUrlSyntax();
			if (this.url != null) {
				validate(this.url);
			}
			else {
				validateAllButUrl();
			}
		}

		private void checkUrlSyntax() {
			if (this.urlInvalid) {
				throw InvalidConfigurationException.hiddenValue("url",
						"be a valid URL, such as wss://example.com/path (spaces and other special characters must be "
								+ "percent-encoded)");
			}
		}

		private void validate(URI target) {
			String scheme = (target.getScheme() != null) ? target.getScheme().toLowerCase() : "";
			if (!scheme.equals("ws") && !scheme.equals("wss")) {
				throw new InvalidConfigurationException("url", redact(target),
						"be a ws:// or wss:// URL (http:// and https:// are not WebSocket URLs: write ws:// or wss://)");
			}
			if (target.getHost() == null) {
				throw new InvalidConfigurationException("url", redact(target), "name a host, as in ws://example.com/path");
			}
			if (this.resumeEnabled && hasResumeParameter(target)) {
				throw new InvalidConfigurationException("url", redact(target), "not carry the query parameter "
						+ ResumeWire.QUERY_PARAMETER + " (set resume.enabled instead: the client adds it)");
			}
			if (this.sslBundle != null && scheme.equals("ws")) {
				throw new InvalidConfigurationException("ssl-bundle", this.sslBundle,
						"only be set for wss:// URLs (the url is " + redact(target) + "): use wss:// or remove ssl-bundle");
			}
			validateAllButUrl();
		}

		private void validateAllButUrl() {
			HandshakeHeaders.validate(this.headers);
			ConfigurationChecks.positive("connect-timeout", this.connectTimeout);
			ConfigurationChecks.positive("close-timeout", this.closeTimeout);
			ConfigurationChecks.positive("heartbeat.interval", this.heartbeatInterval);
			ConfigurationChecks.positive("heartbeat.timeout", this.heartbeatTimeout);
			if (this.heartbeatMaxMissed < 1) {
				throw new InvalidConfigurationException("heartbeat.max-missed", this.heartbeatMaxMissed,
						"be at least 1");
			}
			if (this.heartbeatMode == HeartbeatMode.TEXT) {
				notBlank("heartbeat.ping-text", this.pingText);
				notBlank("heartbeat.pong-text", this.pongText);
			}
			ConfigurationChecks.positive("reconnect.initial-delay", this.initialDelay);
			ConfigurationChecks.positive("reconnect.max-delay", this.maxDelay);
			if (this.initialDelay.compareTo(this.maxDelay) > 0) {
				throw new InvalidConfigurationException("reconnect.initial-delay", this.initialDelay,
						"not be greater than reconnect.max-delay (" + this.maxDelay + ")");
			}
			if (!(this.multiplier >= 1.0)) {
				throw new InvalidConfigurationException("reconnect.multiplier", this.multiplier,
						"be 1.0 or more (1.0 keeps the delay fixed)");
			}
			if (this.jitter.isNegative()) {
				throw new InvalidConfigurationException("reconnect.jitter", this.jitter, "be zero or positive");
			}
			if (this.maxAttempts < 1) {
				throw new InvalidConfigurationException("reconnect.max-attempts", this.maxAttempts,
						"be at least 1 (leave it unset for no limit)");
			}
			ConfigurationChecks.positive("reconnect.stable-after", this.stableAfter);
			ConfigurationChecks.positive("reconnect.try-again-later-delay", this.tryAgainLaterDelay);
			ConfigurationChecks.closeCodes("reconnect.on-codes", this.reconnectOnCodes);
			ConfigurationChecks.closeCodes("reconnect.never-on-codes", this.neverReconnectOnCodes);
			if (this.bufferLimit <= 0) {
				throw new InvalidConfigurationException("send.buffer-limit", this.bufferLimit + "B", "be positive");
			}
			ConfigurationChecks.positive("send.block-timeout", this.blockTimeout);
			if (this.messagesPerSecond < 0 || Double.isNaN(this.messagesPerSecond)) {
				throw new InvalidConfigurationException("send.rate.messages-per-second", this.messagesPerSecond,
						"be positive (leave it unset for no limit)");
			}
			if (this.burst < 1) {
				throw new InvalidConfigurationException("send.rate.burst", this.burst, "be at least 1");
			}
			if (this.maxMessageSize <= 0) {
				throw new InvalidConfigurationException("inbound.max-message-size", this.maxMessageSize + "B",
						"be positive, such as 1MB");
			}
			if (this.resumeBufferLimit <= 0) {
				throw new InvalidConfigurationException("resume.buffer-limit", this.resumeBufferLimit + "B",
						"be positive, such as 1MB");
			}
			ConfigurationChecks.positive("resume.hello-timeout", this.resumeHelloTimeout);
		}

		private static boolean hasResumeParameter(URI target) {
			String query = target.getRawQuery();
			if (query == null) {
				return false;
			}
			for (String pair : query.split("&")) {
				if (pair.equals(ResumeWire.QUERY_PARAMETER) || pair.startsWith(ResumeWire.QUERY_PARAMETER + "=")) {
					return true;
				}
			}
			return false;
		}

		private static void notBlank(String property, String value) {
			if (value.isBlank()) {
				throw new InvalidConfigurationException(property, "'" + value + "'", "not be empty");
			}
		}

	}

}
