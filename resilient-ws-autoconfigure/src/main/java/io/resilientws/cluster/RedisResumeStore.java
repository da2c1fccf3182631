package io.resilientws.cluster;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import io.resilientws.server.ResumeStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.connection.ReturnType;

/**
 * Cluster mode's {@link ResumeStore}: a resuming session's state in Redis, so that another instance can
 * take the session over when the one holding it was killed or drained (docs/RESUME-PROTOCOL.md §7).
 * Per session ({@code P} the key prefix):
 * <ul>
 * <li>{@code P resume:<id>}, a hash: endpoint, principal, the SHA-256 of the current token and of the
 * one not yet confirmed, the holder's node id, whether the holder is handing it over (since when), the
 * count of client messages handled, the acceptance number of the last journaled message, the count of
 * messages the client acknowledged, and whether the session can no longer be resumed elsewhere;</li>
 * <li>{@code P resume:<id>:out}, a stream of the data messages accepted for the client and not yet
 * acknowledged by it, written or not, each with its acceptance number as entry id ({@code 0-<seq>}):
 * in order, the first is the client's message number (acknowledged + 1), and so on;</li>
 * <li>{@code P resume-token:<sha-256>}: the session id a token resumes.</li>
 * </ul>
 * Tokens are never stored, only their hashes. Every write is a script that checks the holder first, so
 * an instance that lost a session (another took it over) changes nothing of it any more. The keys
 * expire unless the holder refreshes them: the state of a session nobody holds goes away by itself.
 */
public final class RedisResumeStore implements ResumeStore {

	private static final Log logger = LogFactory.getLog(RedisResumeStore.class);

	/** How long a takeover waits for a session being handed over, or held by a node that just died. */
	private static final Duration HELD_POLL = Duration.ofMillis(50);

	/** Every script this store runs by its SHA-1 (the takeover's runs as it is: it is rare). */
	private static final Map<String, String> SHAS = Stream
		.concat(Stream.of(ResumeScripts.BATCH, ResumeScripts.BROKEN, ResumeScripts.REFRESH),
			PublicationLog.scripts().stream())
		.collect(Collectors.toUnmodifiableMap((script) -> script, RedisResumeStore::sha1));

	private final RedisFanout fanout;

	private final String prefix;

	private final PublicationLog log;

	/** The sessions this instance holds, with the hash of their current token (for refreshing keys). */
	private final Map<String, String> held = new ConcurrentHashMap<>();

	/**
	 * Sessions with a message written, or a count acknowledged, that Redis did not store: marked as not
	 * resumable elsewhere as soon as Redis answers again (by the next append, or the next refresh).
	 */
	private final Set<String> unjournaled = ConcurrentHashMap.newKeySet();

	private volatile Duration ttl = Duration.ofMinutes(5);

	private volatile Instant lastRefresh = Instant.MIN;

	private final ScriptBatcher writes;

	/** @param pool where the holder's writes are sent from (not Lettuce's event loop) */
	RedisResumeStore(RedisFanout fanout, String prefix, PublicationLog log, Executor pool) {
		this.fanout = fanout;
		this.prefix = prefix;
		this.log = log;
		this.writes = new ScriptBatcher(ResumeScripts.BATCHED, SHAS.get(ResumeScripts.BATCH), fanout::liveConnection,
				fanout.requestTimeout(), pool);
	}

	@Override
	public boolean shared() {
		return true;
	}

	@Override
	public void configure(Duration window) {
		// The holder refreshes the keys every half window (see refresh): a session's state outlives its
		// holder by a window at least, so a client that comes back within it finds it.
		this.ttl = window.multipliedBy(2).plus(this.fanout.nodeTimeout());
		this.log.keep();
	}

	Duration ttl() {
		return this.ttl;
	}

	private String me() {
		return this.fanout.nodeId();
	}

	// ---- keys ----

	private ByteBuffer hash(String sessionId) {
		return RedisKeys.bytes(this.prefix + "resume:" + sessionId);
	}

	private ByteBuffer stream(String sessionId) {
		return RedisKeys.bytes(this.prefix + "resume:" + sessionId + ":out");
	}

	private ByteBuffer tokenKey(String tokenHash) {
		return RedisKeys.bytes(this.prefix + "resume-token:" + tokenHash);
	}

	static String sha1(String script) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(script.getBytes(StandardCharsets.UTF_8)));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("Every Java platform has SHA-1", ex);
		}
	}

	/** Tokens are credentials: only their SHA-256 is stored, and looked up by. */
	static String tokenHash(String token) {
		try {
			return HexFormat.of().formatHex(
					MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("Every Java platform has SHA-256", ex);
		}
	}

	// ---- what the holder writes ----

	@Override
	public void started(String sessionId, String endpoint, @Nullable String principal, String token) {
		String tokenHash = tokenHash(token);
		this.held.put(sessionId, tokenHash);
		run(ResumeScripts.START, 3, hash(sessionId), tokenKey(tokenHash), this.log.key(), arg(me()), arg(endpoint),
				arg((principal != null) ? principal : ""), arg(tokenHash), arg(sessionId), arg(ttlMillis()))
			.whenComplete((ignored, failure) -> {
				if (failure != null) {
					// Started while Redis did not answer (this instance serving its own sessions only): the
					// session resumes here, never elsewhere. Said once; nothing of it is kept in Redis.
					notStored(sessionId, failure);
					this.held.remove(sessionId);
				}
			});
	}

	@Override
	public CompletableFuture<?> append(String sessionId, List<OutboundQueue.Journaled> messages, long handledCount) {
		ReactiveRedisConnection connection = this.fanout.liveConnection();
		if (connection == null) {
			notStored(sessionId, null);
			return CompletableFuture.failedFuture(new IllegalStateException("Redis unreachable"));
		}
		boolean broken = this.unjournaled.remove(sessionId);
		List<ByteBuffer> arguments = new ArrayList<>(7 + 3 * messages.size());
		// A session takes publications in log order (SessionCatchUp keeps it so after a takeover): the
		// newest is the last one of the batch.
		String newestPublication = "";
		for (OutboundQueue.Journaled journaled : messages) {
			String publication = journaled.message().publication();
			if (publication != null) {
				newestPublication = publication;
			}
		}
		arguments.addAll(List.of(hash(sessionId), stream(sessionId), arg(me()), arg(ttlMillis()), arg(broken ? "1" : "0"),
				arg(Long.toString(handledCount)), arg(newestPublication)));
		for (OutboundQueue.Journaled journaled : messages) {
			OutboundMessage message = journaled.message();
			arguments.add(arg(Long.toString(journaled.seq())));
			arguments.add(arg(message.isText() ? "t" : "b"));
			arguments.add(message.isText() ? RedisKeys.bytes(message.text()) : message.binary());
		}
		return this.writes.run(ResumeScripts.APPEND, 2, arguments.toArray(ByteBuffer[]::new)).thenApply((result) -> {
			if (!Long.valueOf(1).equals(result)) {
				throw new IllegalStateException("this instance does not hold the session");
			}
			return result;
		}).whenComplete((ignored, failure) -> {
			if (failure != null) {
				notStored(sessionId, failure);
			}
		});
	}

	// Logged once per session (until Redis has the mark): its state in Redis misses something now.
	private void notStored(String sessionId, @Nullable Throwable failure) {
		if (this.unjournaled.add(sessionId) && this.held.containsKey(sessionId)) {
			logger.info("Session " + sessionId + " can no longer be resumed on another instance: Redis did not store "
					+ "its state" + ((failure != null) ? " (" + RedisFanout.describe(failure) + ")" : " (unreachable)"));
		}
	}

	@Override
	public void dropped(String sessionId, long seq) {
		fireAndForget(ResumeScripts.DROPPED, 2, hash(sessionId), stream(sessionId), arg(me()),
				arg(Long.toString(seq)));
	}

	@Override
	public CompletableFuture<?> received(String sessionId, long clientCount) {
		return run(ResumeScripts.RECEIVED, 1, hash(sessionId), arg(me()), arg(Long.toString(clientCount)))
			.whenComplete((ignored, failure) -> {
				if (failure != null) {
					notStored(sessionId, failure);
				}
			});
	}

	@Override
	public void acknowledged(String sessionId, long count, long seq) {
		fireAndForget(ResumeScripts.ACKNOWLEDGED, 2, hash(sessionId), stream(sessionId), arg(me()),
				arg(Long.toString(count)), arg(Long.toString(seq)));
	}

	@Override
	public void tokens(String sessionId, String token, @Nullable String unconfirmed) {
		String tokenHash = tokenHash(token);
		this.held.computeIfPresent(sessionId, (id, previous) -> tokenHash);
		fireAndForget(ResumeScripts.TOKENS, 2, hash(sessionId), tokenKey(tokenHash), arg(me()), arg(tokenHash),
				arg((unconfirmed != null) ? tokenHash(unconfirmed) : ""), arg(sessionId), arg(ttlMillis()));
	}

	@Override
	public void broken(String sessionId) {
		fireAndForget(ResumeScripts.BROKEN, 1, hash(sessionId), arg(me()));
	}

	@Override
	public CompletableFuture<?> handingOver(String sessionId) {
		return run(ResumeScripts.HANDING_OVER, 1, hash(sessionId), arg(me()));
	}

	@Override
	public void stopTaking(String sessionId, Runnable stop) {
		if (!this.log.kept()) {
			stop.run();
			return;
		}
		// Not batched: queued at once, in order with this instance's publications (PublicationLog).
		this.log.stopTaking(stop, () -> {
			ReactiveRedisConnection connection = this.fanout.liveConnection();
			if (connection != null) {
				eval(connection, PublicationLog.STOPPED_TAKING, 2, hash(sessionId), this.log.key(), arg(me()))
					.exceptionally(RedisResumeStore::updateFailed);
			}
		});
	}

	@Override
	public CompletableFuture<?> release(String sessionId, long clientCount) {
		this.held.remove(sessionId);
		return run(ResumeScripts.RELEASE, 1, hash(sessionId), arg(me()), arg(Long.toString(clientCount)));
	}

	@Override
	public void ended(String sessionId) {
		this.held.remove(sessionId);
		this.unjournaled.remove(sessionId);
		fireAndForget(ResumeScripts.END, 2, hash(sessionId), stream(sessionId), arg(me()));
	}

	/**
	 * Called on every live cluster heartbeat, on the fan-out's pool: loads the scripts (again, if Redis
	 * lost them), marks what Redis missed, keeps the held sessions' keys from expiring.
	 */
	void refresh(ReactiveRedisConnection connection, Instant now) {
		for (String script : SHAS.keySet()) {
			connection.scriptingCommands().scriptLoad(RedisKeys.bytes(script)).block(this.fanout.requestTimeout());
		}
		this.unjournaled.forEach((sessionId) -> eval(connection, ResumeScripts.BROKEN, 1, hash(sessionId), arg(me()))
			.thenRun(() -> this.unjournaled.remove(sessionId)));
		if (Duration.between(this.lastRefresh, now).compareTo(this.ttl.dividedBy(4)) < 0) {
			return;
		}
		this.lastRefresh = now;
		this.held.forEach((sessionId, tokenHash) -> eval(connection, ResumeScripts.REFRESH, 3, hash(sessionId),
				stream(sessionId), tokenKey(tokenHash), arg(ttlMillis())).exceptionally((ignored) -> null));
	}

	// ---- taking a session over ----

	@Override
	public Takeover takeOver(String token, String endpoint, @Nullable String principal, long received, String newToken) {
		long deadline = System.nanoTime() + this.fanout.requestTimeout().toNanos();
		String presented = tokenHash(token);
		String created = tokenHash(newToken);
		Set<String> askedToHandOver = new HashSet<>();
		while (true) {
			ReactiveRedisConnection connection = this.fanout.liveConnection();
			if (connection == null) {
				return Takeover.refused(Takeover.Outcome.HELD);
			}
			Takeover attempt;
			try {
				attempt = attempt(connection, presented, created, endpoint, principal, received, askedToHandOver);
			}
			catch (RuntimeException ex) {
				logger.debug("A takeover could not read Redis", ex);
				return Takeover.refused(Takeover.Outcome.HELD);
			}
			if (attempt.outcome() != Takeover.Outcome.HELD || System.nanoTime() > deadline) {
				if (attempt.outcome() == Takeover.Outcome.TAKEN) {
					this.held.put(attempt.sessionId(), created);
				}
				return attempt;
			}
			try {
				Thread.sleep(HELD_POLL.toMillis());
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return attempt;
			}
		}
	}

	/**
	 * @param askedToHandOver the live holders already asked, in this takeover, to hand the session over:
	 * each is asked once (a session detached there goes; an attached one stays, its client gets 1013)
	 */
	private Takeover attempt(ReactiveRedisConnection connection, String presented, String created, String endpoint,
			@Nullable String principal, long received, Set<String> askedToHandOver) {
		ByteBuffer sessionIdBytes = connection.stringCommands().get(tokenKey(presented))
			.block(this.fanout.requestTimeout());
		if (sessionIdBytes == null) {
			return Takeover.refused(Takeover.Outcome.UNKNOWN);
		}
		String sessionId = RedisKeys.string(sessionIdBytes);
		List<ByteBuffer> arguments = new ArrayList<>(List.of(hash(sessionId), stream(sessionId), tokenKey(created),
				this.log.trimmedKey(), arg(presented), arg(me()), arg(endpoint), arg((principal != null) ? principal : ""),
				arg(Long.toString(received)), arg(created), arg(sessionId), arg(ttlMillis()),
				arg(Long.toString(this.fanout.nodeTimeout().toMillis()))));
		this.fanout.view().nodes().stream()
			.filter((node) -> !node.self())
			.forEach((node) -> arguments.add(arg(node.nodeId())));
		List<Object> result = connection.scriptingCommands()
			.eval(RedisKeys.bytes(ResumeScripts.TAKE_OVER), ReturnType.MULTI, 4, arguments.toArray(ByteBuffer[]::new))
			.collectList()
			.block(this.fanout.requestTimeout());
		List<Object> flat = flatten(result);
		String status = text(flat.get(0));
		return switch (status) {
			case "taken" -> taken(sessionId, flat);
			case "held" -> {
				if (flat.size() > 1 && askedToHandOver.add(text(flat.get(1)))) {
					this.fanout.requestHandOver(text(flat.get(1)), sessionId);
				}
				yield Takeover.refused(Takeover.Outcome.HELD);
			}
			case "reused" -> Takeover.refused(Takeover.Outcome.REUSED);
			case "endpoint" -> Takeover.refused(Takeover.Outcome.ENDPOINT);
			case "principal" -> Takeover.refused(Takeover.Outcome.PRINCIPAL);
			case "overflow" -> Takeover.refused(Takeover.Outcome.OVERFLOW);
			case "invalid" -> Takeover.refused(Takeover.Outcome.INVALID);
			default -> Takeover.refused(Takeover.Outcome.UNKNOWN);
		};
	}

	private static Takeover taken(String sessionId, List<Object> flat) {
		long clientReceived = Long.parseLong(text(flat.get(1)));
		long lastSeq = Long.parseLong(text(flat.get(2)));
		List<OutboundQueue.Journaled> messages = new ArrayList<>();
		for (int i = 3; i + 2 < flat.size(); i += 3) {
			long seq = Long.parseLong(text(flat.get(i)));
			String kind = text(flat.get(i + 1));
			ByteBuffer payload = (ByteBuffer) flat.get(i + 2);
			messages.add(new OutboundQueue.Journaled(seq, kind.equals("b") ? OutboundMessage.unobservedBinary(payload)
					: OutboundMessage.unobservedText(RedisKeys.string(payload))));
		}
		return new Takeover(Takeover.Outcome.TAKEN, sessionId, clientReceived, messages, lastSeq);
	}

	private static String text(Object value) {
		return (value instanceof ByteBuffer bytes) ? RedisKeys.string(bytes) : String.valueOf(value);
	}

	// Lettuce's reactive eval emits an array's elements one by one, or the array as one element.
	@SuppressWarnings("unchecked")
	static List<Object> flatten(@Nullable List<Object> result) {
		if (result == null || result.isEmpty()) {
			throw new IllegalStateException("An empty answer from Redis");
		}
		if (result.size() == 1 && result.get(0) instanceof List<?> only) {
			return (List<Object>) only;
		}
		return result;
	}

	// ---- the publication log ----

	/**
	 * Queues, on the caller's thread, the read of the publication log for a session this instance took
	 * over ({@link PublicationLog#READ}); the script publishes {@code marker} on this node's probe
	 * channel once it has read.
	 */
	CompletableFuture<List<Object>> readLog(String sessionId, String endpoint, @Nullable String principal,
			String probeChannel, String marker) {
		ReactiveRedisConnection connection = this.fanout.liveConnection();
		if (connection == null) {
			return CompletableFuture.failedFuture(new IllegalStateException("Redis unreachable"));
		}
		return connection.scriptingCommands()
			.evalSha(SHAS.get(PublicationLog.READ), ReturnType.MULTI, 3, hash(sessionId), this.log.key(),
					this.log.trimmedKey(), arg(endpoint), arg((principal != null) ? principal : ""), arg(sessionId),
					arg(probeChannel), arg(marker))
			.collectList()
			.timeout(this.fanout.requestTimeout())
			.toFuture()
			.thenApply(RedisResumeStore::flatten);
	}

	/** Runs one of the loaded scripts that answers with a number; queued on the caller's thread. */
	CompletableFuture<Long> evalLong(ReactiveRedisConnection connection, String script, int keys,
			ByteBuffer... keysAndArguments) {
		return eval(connection, script, keys, keysAndArguments).thenApply((value) -> ((Number) value).longValue());
	}

	// ---- helpers ----

	private String ttlMillis() {
		return Long.toString(this.ttl.toMillis());
	}

	private static ByteBuffer arg(String text) {
		return RedisKeys.bytes(text);
	}

	// One of the holder's writes, behind every write asked for before: one session's appends, counts and
	// acknowledgements reach Redis in the order they were made.
	private CompletableFuture<?> run(String script, int keys, ByteBuffer... keysAndArguments) {
		if (this.fanout.liveConnection() == null) {
			return CompletableFuture.failedFuture(new IllegalStateException("Redis unreachable"));
		}
		return this.writes.run(script, keys, keysAndArguments);
	}

	private void fireAndForget(String script, int keys, ByteBuffer... keysAndArguments) {
		run(script, keys, keysAndArguments).exceptionally((failure) -> {
			updateFailed(failure);
			return null;
		});
	}

	private static @Nullable Long updateFailed(Throwable failure) {
		logger.debug("A resume state update failed", failure);
		return null;
	}

	// Subscribed here, on the caller's thread: the command is queued on the shared connection now.
	// By its SHA-1: the scripts are loaded on every live heartbeat, before the instance counts as UP. One
	// that Redis lost (restarted, flushed) fails; for the holder's writes, that marks the session as not
	// resumable elsewhere.
	private CompletableFuture<Object> eval(ReactiveRedisConnection connection, String script, int keys,
			ByteBuffer... keysAndArguments) {
		return connection.scriptingCommands()
			.evalSha(SHAS.get(script), ReturnType.INTEGER, keys, keysAndArguments)
			.next()
			.map((value) -> (Object) value)
			.timeout(this.fanout.requestTimeout())
			.toFuture();
	}

}
