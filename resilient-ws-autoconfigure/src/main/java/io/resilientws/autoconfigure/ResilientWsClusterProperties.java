package io.resilientws.autoconfigure;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

import io.resilientws.ConfigurationChecks;
import io.resilientws.InvalidConfigurationException;
import io.resilientws.cluster.ClusterSettings;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Cluster mode: {@code resilient-ws.cluster.*}. The Redis connection itself is Spring Boot's
 * ({@code spring.data.redis.*}).
 */
@ConfigurationProperties("resilient-ws.cluster")
public class ResilientWsClusterProperties {

	static final String PREFIX = "resilient-ws.cluster.";

	private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,100}");

	/**
	 * Whether every session on every instance is reachable through Redis (needs
	 * spring-boot-starter-data-redis). Off: one instance, no Redis.
	 */
	private boolean enabled = false;

	/**
	 * This instance's id, unique among the live instances (letters, digits, '.', '_', ':', '-'). Default:
	 * generated from the host name, the process id and a random suffix.
	 */
	private @Nullable String nodeId;

	/** Prefix of every Redis key and channel cluster mode uses; instances with the same prefix form one cluster. */
	private String keyPrefix = "resilient-ws:";

	/** How often an instance reports itself to the others and checks Redis and its subscriptions. */
	private Duration heartbeatInterval = Duration.ofSeconds(1);

	/** How long an instance that stopped reporting (killed, cut off) stays in the view; at least 3 heartbeats. */
	private Duration nodeTimeout = Duration.ofSeconds(5);

	/** Longest wait for one Redis request (a publish, a cluster-wide session count, a heartbeat step). */
	private Duration requestTimeout = Duration.ofSeconds(2);

	/**
	 * The validated settings.
	 * @throws InvalidConfigurationException naming the first invalid property
	 */
	ClusterSettings toSettings() {
		String id = (this.nodeId != null) ? this.nodeId : generatedNodeId();
		if (!NODE_ID.matcher(id).matches()) {
			throw new InvalidConfigurationException(PREFIX + "node-id", id,
					"be 1 to 100 letters, digits, '.', '_', ':' or '-' (or be left unset for a generated id)");
		}
		if (this.keyPrefix.isBlank() || this.keyPrefix.chars().anyMatch(Character::isWhitespace)
				|| this.keyPrefix.length() > 100) {
			throw new InvalidConfigurationException(PREFIX + "key-prefix", this.keyPrefix,
					"be 1 to 100 characters without whitespace");
		}
		ConfigurationChecks.positive(PREFIX + "heartbeat-interval", this.heartbeatInterval);
		ConfigurationChecks.positive(PREFIX + "node-timeout", this.nodeTimeout);
		ConfigurationChecks.positive(PREFIX + "request-timeout", this.requestTimeout);
		if (this.nodeTimeout.compareTo(this.heartbeatInterval.multipliedBy(3)) < 0) {
			throw new InvalidConfigurationException(PREFIX + "node-timeout", this.nodeTimeout,
					"be at least 3 times " + PREFIX + "heartbeat-interval (" + this.heartbeatInterval
							+ "), or one late heartbeat drops a live instance from the view");
		}
		if (this.requestTimeout.compareTo(this.nodeTimeout) > 0) {
			throw new InvalidConfigurationException(PREFIX + "request-timeout", this.requestTimeout,
					"be at most " + PREFIX + "node-timeout (" + this.nodeTimeout + ")");
		}
		return new ClusterSettings(id, this.keyPrefix, this.heartbeatInterval, this.nodeTimeout, this.requestTimeout);
	}

	/** host-pid-xxxx: readable in the endpoint, unique even for two instances started in one container. */
	static String generatedNodeId() {
		String host;
		try {
			host = InetAddress.getLocalHost().getHostName();
		}
		catch (UnknownHostException ex) {
			host = "node";
		}
		host = host.replaceAll("[^A-Za-z0-9.-]", "-");
		if (host.length() > 60) {
			host = host.substring(0, 60);
		}
		long pid = ProcessHandle.current().pid();
		String suffix = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
		return host + "-" + pid + "-" + suffix;
	}

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public @Nullable String getNodeId() {
		return this.nodeId;
	}

	public void setNodeId(@Nullable String nodeId) {
		this.nodeId = nodeId;
	}

	public String getKeyPrefix() {
		return this.keyPrefix;
	}

	public void setKeyPrefix(String keyPrefix) {
		this.keyPrefix = keyPrefix;
	}

	public Duration getHeartbeatInterval() {
		return this.heartbeatInterval;
	}

	public void setHeartbeatInterval(Duration heartbeatInterval) {
		this.heartbeatInterval = heartbeatInterval;
	}

	public Duration getNodeTimeout() {
		return this.nodeTimeout;
	}

	public void setNodeTimeout(Duration nodeTimeout) {
		this.nodeTimeout = nodeTimeout;
	}

	public Duration getRequestTimeout() {
		return this.requestTimeout;
	}

	public void setRequestTimeout(Duration requestTimeout) {
		this.requestTimeout = requestTimeout;
	}

}
