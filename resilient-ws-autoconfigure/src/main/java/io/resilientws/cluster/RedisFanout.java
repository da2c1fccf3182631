package io.resilientws.cluster;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import io.resilientws.send.OutboundMessage;
import io.resilientws.send.SerialExecutor;
import io.resilientws.server.ClusterPublication;
import io.resilientws.server.ClusterView;
import io.resilientws.server.Fanout;
import io.resilientws.server.ManagedSession;
import io.resilientws.server.SessionSelector;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.scheduling.TaskScheduler;

/**
 * Cluster mode's {@link Fanout}: every instance publishes what concerns other instances to Redis and
 * subscribes to what concerns its own sessions.
 * <ul>
 * <li>Broadcasts go on one channel that every instance subscribes to; a message for one session or one
 * user goes on a channel that only the instance holding that session, or sessions of that user,
 * subscribes to (see {@link RedisKeys}).</li>
 * <li>One instance's publishes go out on one connection in call order, and each instance reads one
 * subscription connection in order: the sessions of every instance get one publisher's messages in the
 * order it published them. The publisher delivers to its own sessions itself and skips its own copy.</li>
 * <li>A heartbeat on the I/O pool (the scheduler only triggers it) reports this instance, reads the
 * others, and probes its own subscriptions. While Redis does not answer the instance is
 * {@link ClusterView.Status#LOCAL_ONLY}: publishes fail at once (counted, logged at most every 10 s),
 * local delivery goes on, and the next answered heartbeat brings everything back with no restart.</li>
 * <li>A publish that gets no answer within the request timeout is cancelled, so Lettuce does not send
 * it after a reconnect: a message reported as not published is not delivered late.</li>
 * </ul>
 * Anything that can publish on the key prefix reaches every client; a message from Redis still goes
 * through each session's own limits, and must arrive on the channel its selector belongs to.
 */
public final class RedisFanout implements Fanout {

	private static final Log logger = LogFactory.getLog(RedisFanout.class);

	private static final Duration FAILURE_LOG_INTERVAL = Duration.ofSeconds(10);

	private static final Pattern USER_INFO = Pattern.compile("://[^@/\\s]+@");

	private final ReactiveRedisConnectionFactory factory;

	private final ClusterSettings settings;

	private final TaskScheduler scheduler;

	private final ExecutorService pool;

	/** The heartbeat and the leave, one at a time, on the pool. */
	private final Executor membershipLane;

	private final Clock clock;

	private final RedisKeys keys;

	private final ClusterStatistics statistics = new ClusterStatistics();

	private final NodeMembership membership;

	private final ChannelSubscriptions subscriptions;

	private final RedisResumeStore resumeStore;

	private final PublicationLog log;

	private final SessionCatchUp catchUp;

	/** On a node's probe channel: another instance asks it to hand a session over. */
	private static final String HAND_OVER = "hand over ";

	private volatile @Nullable Receiver receiver;

	/** The connection publishes go out on; null until a heartbeat got one. */
	private volatile @Nullable ReactiveRedisConnection redis;

	private volatile ClusterView.Status status = ClusterView.Status.LOCAL_ONLY;

	private volatile boolean beating;

	/** Whether the last heartbeat reached Redis and put this node into the view (so that leaving takes it out). */
	private volatile boolean registered;

	/** Another live instance has this node's id (said once, until a beat finds it gone). */
	private volatile boolean nodeIdInUse;

	private volatile @Nullable ScheduledFuture<?> nextBeat;

	private final AtomicLong lastFailureLog = new AtomicLong(Long.MIN_VALUE);

	private final AtomicLong failuresSinceLog = new AtomicLong();

	/**
	 * @param pool where every Redis call of this fan-out runs (the fan-out owns it and shuts it down)
	 */
	public RedisFanout(ReactiveRedisConnectionFactory factory, ClusterSettings settings, TaskScheduler scheduler,
			ExecutorService pool) {
		this.factory = factory;
		this.settings = settings;
		this.scheduler = scheduler;
		this.pool = pool;
		this.membershipLane = new SerialExecutor(pool);
		this.clock = scheduler.getClock();
		this.keys = new RedisKeys(settings.keyPrefix());
		this.membership = new NodeMembership(settings, this.keys, this.clock);
		this.subscriptions = new ChannelSubscriptions(factory, settings.requestTimeout(), pool, this::received);
		this.log = new PublicationLog(settings.keyPrefix());
		this.resumeStore = new RedisResumeStore(this, settings.keyPrefix(), this.log, pool);
		this.catchUp = new SessionCatchUp(this.keys, settings.nodeId(), settings.requestTimeout(), this.subscriptions,
				this.log, this.resumeStore);
	}

	/** What this fan-out counted (the cluster meters read it). */
	public ClusterStatistics statistics() {
		return this.statistics;
	}

	public String nodeId() {
		return this.settings.nodeId();
	}

	@Override
	public RedisResumeStore resumeStore() {
		return this.resumeStore;
	}

	/** The connection to run commands on while Redis answers; null while this instance is LOCAL_ONLY. */
	@Nullable ReactiveRedisConnection liveConnection() {
		ReactiveRedisConnection connection = this.redis;
		return (this.status == ClusterView.Status.UP) ? connection : null;
	}

	Duration requestTimeout() {
		return this.settings.requestTimeout();
	}

	Duration nodeTimeout() {
		return this.settings.nodeTimeout();
	}

	// ---- lifecycle ----

	/**
	 * Joins the cluster before it returns, when Redis answers within the request timeouts: the first
	 * beat runs now (on the pool, waited for here, at startup). A resuming session that started before
	 * this instance was UP would never be journaled, so never be resumable on another instance (a
	 * rolling restart's next step would lose it). Redis down: the instance starts serving locally, and
	 * joins on a later beat.
	 */
	@Override
	public void start(Receiver receiver) {
		this.receiver = receiver;
		this.subscriptions.acquire(this.keys.broadcastChannel());
		this.subscriptions.acquire(this.keys.probeChannel(this.settings.nodeId()));
		this.beating = true;
		Exception late = onTheLaneWithin(this::beat);
		if (late != null) {
			logger.debug("The first cluster heartbeat did not end in time; the instance joins on a later one", late);
		}
	}

	@Override
	public void leave() {
		stopBeating();
		// After a beat under way, if any: else it could write this node's report again after it was removed.
		Exception late = onTheLaneWithin(this::leaveNow);
		if (late != null) {
			logger.warn("Cluster node " + this.settings.nodeId()
					+ " could not leave the view in time; it drops out when its report expires: " + describe(late));
		}
	}

	/**
	 * Runs {@code task} on the membership lane (after a beat under way) and waits for it: at most 8
	 * request timeouts, enough for a beat (one per step, three for renewing the subscriptions).
	 * @return null when it ended in time, else why not
	 */
	private @Nullable Exception onTheLaneWithin(Runnable task) {
		try {
			CompletableFuture.runAsync(task, this.membershipLane)
				.get(this.settings.requestTimeout().toMillis() * 8, TimeUnit.MILLISECONDS);
			return null;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return ex;
		}
		catch (ExecutionException | TimeoutException ex) {
			return ex;
		}
	}

	private void leaveNow() {
		ReactiveRedisConnection connection = this.redis;
		// Whenever the last heartbeat registered this node, also one that found its subscriptions not yet
		// live (an instance stopped right after it started): the others must not wait a node timeout for it.
		if (connection != null && this.registered) {
			try {
				this.membership.leave(connection);
				logger.info("Cluster node " + this.settings.nodeId() + " left the cluster view");
			}
			catch (RuntimeException ex) {
				logger.warn("Cluster node " + this.settings.nodeId()
						+ " could not leave the view; it drops out when its report expires: " + describe(ex));
			}
		}
	}

	@Override
	public void stop() {
		stopBeating();
		try {
			// Waited for, so that the connection factory (destroyed after this bean) is still open.
			this.subscriptions.close().get(this.settings.requestTimeout().toMillis() * 2, TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (ExecutionException | TimeoutException ex) {
			logger.debug("Cluster subscriptions did not close in time", ex);
		}
		this.pool.shutdown();
	}

	private void stopBeating() {
		this.beating = false;
		ScheduledFuture<?> beat = this.nextBeat;
		if (beat != null) {
			beat.cancel(false);
		}
	}

	// ---- the heartbeat ----

	private void beat() {
		Receiver started = this.receiver;
		if (!this.beating || started == null) {
			return;
		}
		boolean live;
		ReactiveRedisConnection connection = null;
		try {
			connection = this.factory.getReactiveConnection();
			this.membership.beat(connection, started.counts());
			this.registered = true;
			live = probe(connection) || renewAndProbe(connection);
			ReactiveRedisConnection previous = this.redis;
			this.redis = connection;
			if (previous != null) {
				previous.closeLater().subscribe(null, (ignored) -> {
				});
			}
			if (!live) {
				logFailure("its subscriptions are not live", null);
			}
			else {
				this.resumeStore.refresh(connection, this.clock.instant());
			}
		}
		catch (NodeMembership.NodeIdInUseException ex) {
			live = false;
			connection.closeLater().subscribe(null, (ignored) -> {
			});
			if (!this.nodeIdInUse) {
				this.nodeIdInUse = true;
				logger.error(ex.getMessage());
			}
		}
		catch (RuntimeException ex) {
			live = false;
			this.registered = false;
			logFailure("Redis did not answer", ex);
			this.subscriptions.renew();
		}
		if (live) {
			this.nodeIdInUse = false;
		}
		changeStatus(live ? ClusterView.Status.UP : ClusterView.Status.LOCAL_ONLY);
		if (this.beating) {
			this.nextBeat = this.scheduler.schedule(() -> this.membershipLane.execute(this::beat),
					this.clock.instant().plus(this.settings.heartbeatInterval()));
		}
	}

	/** Whether this node's own probe channel has a listener: its subscription connection is live. */
	private boolean probe(ReactiveRedisConnection connection) {
		Long listeners = connection.pubSubCommands()
			.publish(RedisKeys.bytes(this.keys.probeChannel(this.settings.nodeId())), RedisKeys.bytes("probe"))
			.block(this.settings.requestTimeout());
		return listeners != null && listeners > 0;
	}

	private boolean renewAndProbe(ReactiveRedisConnection connection) {
		try {
			// The renewal waits at most one request timeout per step (connect, subscribe).
			this.subscriptions.renew()
				.get(this.settings.requestTimeout().multipliedBy(3).toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
		catch (ExecutionException | TimeoutException ex) {
			return false;
		}
		return probe(connection);
	}

	private void changeStatus(ClusterView.Status next) {
		ClusterView.Status previous = this.status;
		this.status = next;
		if (previous != next && this.beating) {
			if (next == ClusterView.Status.UP) {
				logger.info("Cluster node " + this.settings.nodeId() + " is connected to Redis: sends reach every instance");
			}
			else if (!this.nodeIdInUse) {
				logger.warn("Cluster node " + this.settings.nodeId()
						+ " lost Redis: it serves its own sessions only and reports every cross-instance send as not published until Redis answers again");
			}
		}
	}

	// ---- publishing ----

	@Override
	public CompletableFuture<ClusterPublication> publish(SessionSelector selector, OutboundMessage message) {
		ReactiveRedisConnection connection = this.redis;
		if (this.status != ClusterView.Status.UP || connection == null) {
			return notPublished(selector, "Redis unreachable", null);
		}
		String channel = this.keys.channelFor(selector);
		byte[] envelope = new Envelope(this.settings.nodeId(), micros(this.clock.instant()), selector, message).encode();
		boolean selfListens = this.subscriptions.wants(channel);
		CompletableFuture<ClusterPublication> outcome = new CompletableFuture<>();
		// toFuture() subscribes here, on the caller's thread: the command is queued on the shared
		// connection now, in call order. The outcome is completed on the pool, not on Lettuce's event loop.
		CompletableFuture<Long> sent = this.log.kept()
				? this.log.publish(this.resumeStore, connection, channel, envelope, this.settings.nodeId(), selector,
						this.resumeStore.ttl().toMillis())
				: connection.pubSubCommands()
					.publish(RedisKeys.bytes(channel), ByteBuffer.wrap(envelope))
					.timeout(this.settings.requestTimeout())
					.toFuture();
		sent.whenCompleteAsync((listeners, failure) -> {
			if (failure != null) {
				notPublished(selector, "no answer from Redis within the request timeout", failure)
					.thenAccept(outcome::complete);
			}
			else {
				this.statistics.published(selector);
				long others = listeners - (selfListens ? 1 : 0);
				outcome.complete(ClusterPublication.published((int) Math.max(0, others)));
			}
		}, this.pool);
		return outcome;
	}

	private CompletableFuture<ClusterPublication> notPublished(SessionSelector selector, String reason,
			@Nullable Throwable failure) {
		this.statistics.failed(selector);
		logFailure("a message could not be published (" + reason + ")", failure);
		return CompletableFuture.completedFuture(ClusterPublication.notPublished(reason));
	}

	// ---- receiving (on Lettuce's event loop, one message at a time) ----

	private void received(String channel, ByteBuffer data) {
		Receiver started = this.receiver;
		if (started == null) {
			return;
		}
		if (channel.equals(this.keys.probeChannel(this.settings.nodeId()))) {
			String text = RedisKeys.string(data.duplicate());
			if (text.startsWith(HAND_OVER)) {
				started.handOverRequested(text.substring(HAND_OVER.length()));
			}
			else {
				this.catchUp.markerSeen(text);
			}
			return;
		}
		Envelope envelope;
		try {
			byte[] bytes = new byte[data.remaining()];
			data.duplicate().get(bytes);
			envelope = Envelope.decode(bytes);
			if (!this.keys.channelFor(envelope.selector()).equals(channel)) {
				throw new IllegalArgumentException("selector does not belong to its channel");
			}
		}
		catch (RuntimeException ex) {
			this.statistics.countInvalid();
			logFailure("a message on a cluster channel was not a valid envelope and was dropped (" + ex.getMessage()
					+ ")", null);
			return;
		}
		if (envelope.origin().equals(this.settings.nodeId())) {
			return; // delivered by this node when it published
		}
		this.statistics.received(envelope.selector(), micros(this.clock.instant()) - envelope.publishedMicros());
		started.deliver(envelope.selector(), envelope.message());
	}

	/**
	 * Asks the instance {@code node}, which holds a resuming session whose client came back here, to hand
	 * it over; it does if the session waits detached there (docs/RESUME-PROTOCOL.md §7).
	 */
	void requestHandOver(String node, String sessionId) {
		ReactiveRedisConnection connection = liveConnection();
		if (connection != null) {
			connection.pubSubCommands()
				.publish(RedisKeys.bytes(this.keys.probeChannel(node)), RedisKeys.bytes(HAND_OVER + sessionId))
				.timeout(this.settings.requestTimeout())
				.subscribe(null, (ignored) -> {
				});
		}
	}

	// ---- sessions and users ----

	@Override
	public void opened(ManagedSession session) {
		this.subscriptions.acquire(this.keys.sessionChannel(session.getId()));
		session.principalName().ifPresent((name) -> this.subscriptions.acquire(this.keys.userChannel(name)));
	}

	@Override
	public <T> T publishing(Supplier<T> publishAndDeliver) {
		return this.log.kept() ? this.log.publishing(publishAndDeliver) : publishAndDeliver.get();
	}

	@Override
	public boolean adopt(ManagedSession session, Runnable register) {
		if (!this.log.kept()) {
			return Fanout.super.adopt(session, register);
		}
		return this.catchUp.adopt(session, register);
	}

	@Override
	public void closed(ManagedSession session) {
		this.subscriptions.release(this.keys.sessionChannel(session.getId()));
		session.principalName().ifPresent((name) -> this.subscriptions.release(this.keys.userChannel(name)));
	}

	@Override
	public boolean admitPrincipal(String principal, int limit) {
		ReactiveRedisConnection connection = this.redis;
		if (this.status != ClusterView.Status.UP || connection == null) {
			return true; // LOCAL_ONLY: this instance's own count is all it can enforce
		}
		try {
			if (this.membership.countUserSession(connection, principal) > limit) {
				releasePrincipal(principal);
				return false;
			}
			return true;
		}
		catch (RuntimeException ex) {
			logFailure("a cluster-wide session count failed; this instance's count applies", ex);
			return true;
		}
	}

	@Override
	public void releasePrincipal(String principal) {
		ReactiveRedisConnection connection = this.redis;
		if (connection != null && this.status == ClusterView.Status.UP) {
			// Not waited for; a lost release is repaired by the next heartbeat's rewrite.
			this.membership.releaseUserSession(connection, principal).subscribe(null, (ignored) -> {
			});
		}
	}

	// ---- the view ----

	@Override
	public ClusterView view() {
		Receiver started = this.receiver;
		List<ClusterView.Node> nodes = new ArrayList<>(this.membership.others());
		if (started != null) {
			nodes.add(new ClusterView.Node(this.settings.nodeId(), started.counts().sessionsByEndpoint(),
					this.clock.instant(), true));
		}
		nodes.sort(java.util.Comparator.comparing(ClusterView.Node::nodeId));
		return new ClusterView(this.settings.nodeId(), this.status, nodes);
	}

	// ---- helpers ----

	private static long micros(Instant instant) {
		return instant.getEpochSecond() * 1_000_000 + instant.getNano() / 1_000;
	}

	/** At most one warning per {@link #FAILURE_LOG_INTERVAL}, saying how many were left out. */
	private void logFailure(String what, @Nullable Throwable failure) {
		long now = System.nanoTime();
		long last = this.lastFailureLog.get();
		long skipped = this.failuresSinceLog.incrementAndGet() - 1;
		if (last != Long.MIN_VALUE && now - last < FAILURE_LOG_INTERVAL.toNanos()) {
			return;
		}
		if (!this.lastFailureLog.compareAndSet(last, now)) {
			return;
		}
		this.failuresSinceLog.set(0);
		logger.warn("Cluster node " + this.settings.nodeId() + ": " + what
				+ ((failure != null) ? ": " + describe(failure) : "")
				+ ((skipped > 0) ? " (" + skipped + " similar failures since the last such message)" : ""));
	}

	/** The failure's kind and message, with any credentials in a URI masked. */
	static String describe(Throwable failure) {
		Throwable root = failure;
		while (root.getCause() != null && root.getCause() != root) {
			root = root.getCause();
		}
		String message = (root.getMessage() != null) ? USER_INFO.matcher(root.getMessage()).replaceAll("://***@") : "";
		return root.getClass().getSimpleName() + (message.isEmpty() ? "" : " (" + message + ")");
	}

}
