package io.resilientws.cluster;

import java.time.Duration;

/**
 * Cluster mode's settings ({@code resilient-ws.cluster.*}), validated by the properties that make them.
 *
 * @param nodeId this instance's id, unique among the live instances
 * @param keyPrefix the prefix of every Redis key and channel this library uses
 * @param heartbeatInterval how often this instance reports itself (and checks Redis)
 * @param nodeTimeout how long an instance that stopped reporting stays in the view
 * @param requestTimeout how long one Redis request (a publish, a cluster-wide count) may take
 */
public record ClusterSettings(String nodeId, String keyPrefix, Duration heartbeatInterval, Duration nodeTimeout,
		Duration requestTimeout) {
}
