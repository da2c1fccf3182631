package io.resilientws.sample;

import jakarta.servlet.http.HttpServletRequest;

import io.resilientws.server.ClusterView;
import io.resilientws.server.ServerSessionRegistry;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Which instance served this page, so that in the cluster run each chat page can say which of the two
 * instances it talks to (the page and its WebSocket come from the same origin, hence the same instance).
 */
@RestController
class InstanceController {

	private final ServerSessionRegistry sessions;

	InstanceController(ServerSessionRegistry sessions) {
		this.sessions = sessions;
	}

	@GetMapping("/instance")
	Instance instance(HttpServletRequest request) {
		ClusterView view = this.sessions.clusterView();
		return new Instance(view.nodeId(), request.getLocalPort(), view.status(), view.nodes().size());
	}

	/**
	 * @param nodeId {@code resilient-ws.cluster.node-id}, or {@code local} with cluster mode off
	 * @param port the HTTP port of this instance
	 * @param cluster SINGLE_INSTANCE, UP or LOCAL_ONLY
	 * @param instances the live instances this one knows of, itself included
	 */
	record Instance(String nodeId, int port, ClusterView.Status cluster, int instances) {
	}

}
