package io.resilientws.server;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The instances that serve this application's WebSocket sessions, as this instance last saw them.
 *
 * @param nodeId this instance's id
 * @param status whether this instance reaches the others
 * @param nodes the live instances, this one included, ordered by id
 */
public record ClusterView(String nodeId, Status status, List<Node> nodes) {

	public ClusterView {
		nodes = List.copyOf(nodes);
	}

	/** Sessions on all live instances. */
	public int sessions() {
		return this.nodes.stream().mapToInt(Node::sessions).sum();
	}

	/**
	 * One instance.
	 *
	 * @param nodeId its id ({@code resilient-ws.cluster.node-id})
	 * @param sessionsByEndpoint its open sessions, by endpoint path
	 * @param lastSeen when it last reported itself
	 * @param self whether it is this instance
	 */
	public record Node(String nodeId, Map<String, Integer> sessionsByEndpoint, Instant lastSeen, boolean self) {

		public Node {
			sessionsByEndpoint = Map.copyOf(sessionsByEndpoint);
		}

		public int sessions() {
			return this.sessionsByEndpoint.values().stream().mapToInt(Integer::intValue).sum();
		}

	}

	public enum Status {

		/** Cluster mode is off: this instance is the whole view. */
		SINGLE_INSTANCE,

		/** Redis answers and this instance's subscriptions are live: sends reach every instance. */
		UP,

		/**
		 * Redis does not answer (or the subscriptions are not live): this instance serves its own sessions
		 * only, reports every cross-instance part as not published, and reconnects by itself. The other
		 * nodes shown are as last seen.
		 */
		LOCAL_ONLY

	}

}
