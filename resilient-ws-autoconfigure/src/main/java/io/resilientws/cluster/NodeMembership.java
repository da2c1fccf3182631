package io.resilientws.cluster;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

import io.resilientws.server.ClusterView;
import io.resilientws.server.Fanout;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.core.types.Expiration;
import org.springframework.data.redis.connection.RedisStringCommands.SetOption;

/**
 * This node's entry in Redis and its picture of the others, refreshed by one heartbeat. Every call
 * here does blocking Redis I/O bounded by the request timeout, and runs on the I/O pool, never on the
 * scheduler thread or under a lock.
 * <p>
 * A node's report ({@code P node:<id>}) expires {@code node-timeout} minus one heartbeat after it was
 * written, so a node that stops (SIGKILL included) leaves every other node's view within the node
 * timeout. A report is rewritten on every beat, so after Redis lost its data (a restart without
 * persistence) every node is back in the view after one beat; the user counts for
 * {@code max-sessions-per-principal} are rewritten from the registry's own counts on every beat, which
 * also repairs a release that was lost while Redis was unreachable.
 */
final class NodeMembership {

	private final ClusterSettings settings;

	private final RedisKeys keys;

	private final Clock clock;

	/** Only the heartbeat's thread writes these. */
	private final Set<String> reportedUsers = new HashSet<>();

	/** This process, among any others that report with the same node id. */
	private final String incarnation = UUID.randomUUID().toString();

	/** Whether a beat wrote {@link #incarnation} as the node id's owner before. */
	private boolean claimed;

	/** When a beat last found another process as the owner (null: never). */
	private @Nullable Instant otherOwnerSeen;

	private volatile List<ClusterView.Node> others = List.of();

	NodeMembership(ClusterSettings settings, RedisKeys keys, Clock clock) {
		this.settings = settings;
		this.keys = keys;
		this.clock = clock;
	}

	/**
	 * Writes this node's report and user counts, then reads the other nodes' reports.
	 * @throws RuntimeException when Redis does not answer within the request timeout
	 * @throws NodeIdInUseException when another live process reports with this node's id
	 */
	void beat(ReactiveRedisConnection redis, Fanout.Counts counts) {
		Duration timeout = this.settings.requestTimeout();
		String self = this.settings.nodeId();
		Instant now = this.clock.instant();
		ByteBuffer report = RedisKeys.bytes(NodeReport.encode(now, counts.sessionsByEndpoint()));
		Duration ttl = this.settings.nodeTimeout().minus(this.settings.heartbeatInterval());
		// Another owner than this process, after this process wrote itself, is a live process with the same
		// id: one killed before does not write any more. (What a killed one left is found on the first beat
		// only, and overwritten.)
		ByteBuffer owner = redis.stringCommands()
			.setGet(this.keys.nodeOwner(self), RedisKeys.bytes(this.incarnation), Expiration.from(ttl),
					SetOption.upsert())
			.block(timeout);
		if (this.claimed && owner != null && !this.incarnation.equals(RedisKeys.string(owner))) {
			this.otherOwnerSeen = now;
		}
		this.claimed = true;
		// Two processes overwrite each other once per beat each, not in strict turns: in use until the other
		// has not written for a node timeout.
		Instant seen = this.otherOwnerSeen;
		if (seen != null && now.isBefore(seen.plus(this.settings.nodeTimeout()))) {
			throw new NodeIdInUseException(self);
		}
		Mono.when(
				redis.stringCommands()
					.set(this.keys.node(self), report, Expiration.from(ttl), SetOption.upsert()),
				redis.setCommands().sAdd(this.keys.nodes(), RedisKeys.bytes(self)))
			.block(timeout);
		reportUsers(redis, counts.sessionsByPrincipal(), timeout);
		this.others = readOthers(redis, timeout);
	}

	/** Takes this node out of the view and the user counts (the start of a drain). */
	void leave(ReactiveRedisConnection redis) {
		Duration timeout = this.settings.requestTimeout();
		String self = this.settings.nodeId();
		List<Mono<?>> removals = new ArrayList<>();
		removals.add(redis.keyCommands().del(this.keys.node(self)));
		removals.add(redis.keyCommands().del(this.keys.nodeOwner(self)));
		removals.add(redis.setCommands().sRem(this.keys.nodes(), RedisKeys.bytes(self)));
		for (String user : this.reportedUsers) {
			removals.add(redis.hashCommands().hDel(this.keys.user(user), RedisKeys.bytes(self)));
		}
		Mono.when(removals).block(timeout);
		this.reportedUsers.clear();
	}

	/** The other live nodes as last read. */
	List<ClusterView.Node> others() {
		return this.others;
	}

	/**
	 * Counts one more session of {@code user} on this node in Redis and returns the user's sessions on
	 * all live nodes, this one included.
	 */
	long countUserSession(ReactiveRedisConnection redis, String user) {
		Duration timeout = this.settings.requestTimeout();
		ByteBuffer field = RedisKeys.bytes(this.settings.nodeId());
		redis.numberCommands().hIncrBy(this.keys.user(user), field, 1L).block(timeout);
		Map<String, Long> byNode = new HashMap<>();
		redis.hashCommands()
			.hGetAll(this.keys.user(user))
			.doOnNext((entry) -> byNode.put(RedisKeys.string(entry.getKey()), parseCount(entry.getValue())))
			.then()
			.block(timeout);
		Set<String> live = new HashSet<>();
		live.add(this.settings.nodeId());
		this.others.forEach((node) -> live.add(node.nodeId()));
		// A node that died with sessions left its counts behind: they stop counting with its report.
		return byNode.entrySet().stream().filter((entry) -> live.contains(entry.getKey())).mapToLong(Map.Entry::getValue).sum();
	}

	/** Gives back one session of {@code user} on this node (fire and forget; the next beat corrects it). */
	Mono<Long> releaseUserSession(ReactiveRedisConnection redis, String user) {
		return redis.numberCommands()
			.hIncrBy(this.keys.user(user), RedisKeys.bytes(this.settings.nodeId()), -1L)
			.timeout(this.settings.requestTimeout());
	}

	private void reportUsers(ReactiveRedisConnection redis, Map<String, Integer> sessionsByUser, Duration timeout) {
		ByteBuffer self = RedisKeys.bytes(this.settings.nodeId());
		List<Mono<?>> writes = new ArrayList<>();
		for (Map.Entry<String, Integer> user : sessionsByUser.entrySet()) {
			writes.add(redis.hashCommands()
				.hSet(this.keys.user(user.getKey()), self, RedisKeys.bytes(Integer.toString(user.getValue()))));
		}
		for (String gone : this.reportedUsers) {
			if (!sessionsByUser.containsKey(gone)) {
				writes.add(redis.hashCommands().hDel(this.keys.user(gone), self));
			}
		}
		if (!writes.isEmpty()) {
			Mono.when(writes).block(timeout);
		}
		this.reportedUsers.clear();
		this.reportedUsers.addAll(sessionsByUser.keySet());
	}

	private List<ClusterView.Node> readOthers(ReactiveRedisConnection redis, Duration timeout) {
		List<String> ids = redis.setCommands()
			.sMembers(this.keys.nodes())
			.map(RedisKeys::string)
			.filter((id) -> !id.equals(this.settings.nodeId()))
			.collectList()
			.block(timeout);
		if (ids == null || ids.isEmpty()) {
			return List.of();
		}
		Map<String, String> reports = new TreeMap<>();
		Flux.fromIterable(ids)
			.flatMap((id) -> redis.stringCommands().get(this.keys.node(id)).map((report) -> Map.entry(id, RedisKeys.string(report))))
			.doOnNext((entry) -> reports.put(entry.getKey(), entry.getValue()))
			.then()
			.block(timeout);
		List<ByteBuffer> expired = ids.stream().filter((id) -> !reports.containsKey(id)).map(RedisKeys::bytes).toList();
		if (!expired.isEmpty()) {
			redis.setCommands().sRem(this.keys.nodes(), expired).block(timeout);
		}
		List<ClusterView.Node> nodes = new ArrayList<>();
		reports.forEach((id, report) -> nodes.add(NodeReport.decode(id, report)));
		nodes.sort(Comparator.comparing(ClusterView.Node::nodeId));
		return List.copyOf(nodes);
	}

	/** Another live process reports as this node: two instances with one id would mix up their sessions' state. */
	static final class NodeIdInUseException extends RuntimeException {

		NodeIdInUseException(String nodeId) {
			super("Cluster node id '" + nodeId + "' is in use by another live instance. Give each instance its own "
					+ "resilient-ws.cluster.node-id, or leave it unset (the default, host-pid-xxxx, is unique). Until "
					+ "the other instance is gone, this one serves its own sessions only: two instances with one id "
					+ "would take over each other's sessions and lose messages.");
		}

	}

	private static long parseCount(ByteBuffer value) {
		try {
			return Long.parseLong(RedisKeys.string(value));
		}
		catch (NumberFormatException ex) {
			return 0;
		}
	}

}
