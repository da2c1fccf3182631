package io.resilientws.cluster;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import io.resilientws.server.SessionSelector;

/**
 * The names of everything this library keeps in Redis, all under {@code resilient-ws.cluster.key-prefix}
 * ({@code P} below):
 * <ul>
 * <li>{@code P nodes}: a set of the node ids that registered;</li>
 * <li>{@code P node:<id>}: one node's report (its sessions by endpoint), expiring when it stops reporting;</li>
 * <li>{@code P node:<id>:owner}: a random value of the process that reports as that node, so that a second
 * live process with the same id is noticed;</li>
 * <li>{@code P user:<name>}: a hash of node id to that user's sessions on the node (cluster-wide
 * {@code max-sessions-per-principal});</li>
 * <li>channels {@code P ch:all} (broadcasts), {@code P ch:session:<id>} and {@code P ch:user:<name>}
 * (subscribed only by the node holding the session or the user's sessions), {@code P ch:node:<id>}
 * (the node's own probe: a publish to it that nobody receives means its subscriptions are not live).</li>
 * </ul>
 */
final class RedisKeys {

	private final String prefix;

	RedisKeys(String prefix) {
		this.prefix = prefix;
	}

	ByteBuffer nodes() {
		return bytes(this.prefix + "nodes");
	}

	ByteBuffer node(String nodeId) {
		return bytes(this.prefix + "node:" + nodeId);
	}

	ByteBuffer nodeOwner(String nodeId) {
		return bytes(this.prefix + "node:" + nodeId + ":owner");
	}

	ByteBuffer user(String principal) {
		return bytes(this.prefix + "user:" + principal);
	}

	String broadcastChannel() {
		return this.prefix + "ch:all";
	}

	String sessionChannel(String sessionId) {
		return this.prefix + "ch:session:" + sessionId;
	}

	String userChannel(String principal) {
		return this.prefix + "ch:user:" + principal;
	}

	String probeChannel(String nodeId) {
		return this.prefix + "ch:node:" + nodeId;
	}

	/** Where a message for {@code selector} is published: only a session's or user's holders get those. */
	String channelFor(SessionSelector selector) {
		if (selector instanceof SessionSelector.Session session) {
			return sessionChannel(session.id());
		}
		if (selector instanceof SessionSelector.Principal principal) {
			return userChannel(principal.name());
		}
		return broadcastChannel();
	}

	static ByteBuffer bytes(String text) {
		return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
	}

	static String string(ByteBuffer bytes) {
		return StandardCharsets.UTF_8.decode(bytes.duplicate()).toString();
	}

}
