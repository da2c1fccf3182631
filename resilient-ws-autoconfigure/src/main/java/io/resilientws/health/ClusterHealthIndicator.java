package io.resilientws.health;

import java.util.LinkedHashMap;
import java.util.Map;

import io.resilientws.server.ClusterView;
import io.resilientws.server.ServerSessionRegistry;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * The cluster part of the {@code websockets} health (cluster mode only): {@code UP} while Redis answers
 * and this instance's subscriptions are live; {@link #LOCAL_ONLY} while it does not, and the instance
 * serves its own sessions only. LOCAL_ONLY is not DOWN on purpose: the instance still works for its
 * clients, and taking it out of the load balancer would make things worse; like RECONNECTING it is not in
 * Spring Boot's default status order, so it leaves the aggregate alone unless the application places it
 * there. Details: this node's id, the live nodes with their sessions, and the sessions of all of them.
 */
public final class ClusterHealthIndicator implements HealthIndicator {

	/** Redis unreachable: this instance serves its own sessions only. */
	public static final Status LOCAL_ONLY = new Status("LOCAL_ONLY",
			"Redis unreachable: serving this instance's sessions only; cross-instance sends are reported as not published");

	private final ServerSessionRegistry sessions;

	public ClusterHealthIndicator(ServerSessionRegistry sessions) {
		this.sessions = sessions;
	}

	@Override
	public Health health() {
		ClusterView view = this.sessions.clusterView();
		Map<String, Integer> nodes = new LinkedHashMap<>();
		view.nodes().forEach((node) -> nodes.put(node.nodeId(), node.sessions()));
		Health.Builder health = (view.status() == ClusterView.Status.UP) ? Health.up() : Health.status(LOCAL_ONLY);
		return health.withDetail("nodeId", view.nodeId())
			.withDetail("nodes", nodes)
			.withDetail("sessions", view.sessions())
			.build();
	}

}
