package io.resilientws.actuate.endpoint;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.resilientws.server.ClusterView;

/**
 * The cluster part of {@code /actuator/websockets} (cluster mode only).
 *
 * @param nodeId this instance's id
 * @param status {@code UP}, or {@code LOCAL_ONLY} while Redis is unreachable
 * @param sessions sessions on all live instances
 * @param nodes the live instances, by id
 */
public record ClusterSummary(String nodeId, ClusterView.Status status, int sessions, List<Node> nodes) {

	/**
	 * One instance.
	 *
	 * @param nodeId its id
	 * @param self whether it is the instance that answered
	 * @param sessions its open sessions
	 * @param sessionsPerEndpoint its open sessions by endpoint path
	 * @param lastSeen when it last reported itself
	 */
	public record Node(String nodeId, boolean self, int sessions, Map<String, Integer> sessionsPerEndpoint,
			Instant lastSeen) {
	}

	public static ClusterSummary of(ClusterView view) {
		List<Node> nodes = view.nodes()
			.stream()
			.map((node) -> new Node(node.nodeId(), node.self(), node.sessions(), node.sessionsByEndpoint(),
					node.lastSeen()))
			.toList();
		return new ClusterSummary(view.nodeId(), view.status(), view.sessions(), nodes);
	}

}
