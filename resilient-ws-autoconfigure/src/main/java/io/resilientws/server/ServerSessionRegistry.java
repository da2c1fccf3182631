package io.resilientws.server;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

import io.resilientws.IoPool;
import io.resilientws.heartbeat.HeartbeatSweep;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.send.OutboundMessage;
import io.resilientws.send.SendFailure;
import io.resilientws.send.SendResult;
import io.resilientws.send.UndeliveredMessageException;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.WebSocketSession;

/**
 * Every WebSocket session the application has accepted, on every endpoint (raw handlers and STOMP
 * alike): find them, send to one, broadcast to many — without a slow or dead session delaying the
 * others or the caller.
 * <p>
 * Owns what all sessions share: the scheduler (heartbeats, the sweep that finds stalled writes),
 * the I/O pool (blocking pings and closes, delivery callbacks), admission control, and the drain
 * on shutdown. As a {@link SmartLifecycle} in phase {@link #PHASE} it stops before the web server's
 * graceful shutdown, so its sessions get 1001 (not the 1006 of a plain shutdown), spread over the
 * drain period.
 */
public class ServerSessionRegistry implements SmartLifecycle, DisposableBean {

	/** Above the web server's graceful shutdown ({@code MAX_VALUE - 1024}): drained before it. */
	public static final int PHASE = Integer.MAX_VALUE - 512;

	private static final Log logger = LogFactory.getLog(ServerSessionRegistry.class);

	private final ServerSettings settings;

	private final TaskScheduler scheduler;

	private final ExecutorService pool;

	private final List<Consumer<SessionEvent>> listeners = new CopyOnWriteArrayList<>();

	private final Runnable refusingTraffic;

	private final Map<String, ManagedSession> sessions = new ConcurrentHashMap<>();

	/** By endpoint path; an endpoint appears with its first session and stays. */
	private final Map<String, EndpointStatistics> statistics = new ConcurrentHashMap<>();

	/** Places taken by admitted handshakes and open sessions. */
	private final AtomicInteger admitted = new AtomicInteger();

	private final Map<String, AtomicInteger> admittedPerPrincipal = new ConcurrentHashMap<>();

	private volatile boolean draining;

	private volatile boolean running;

	private volatile @Nullable ScheduledFuture<?> sweep;

	private final HeartbeatSweep heartbeats;

	private final PingSender pings;

	private final InboundBackPressure backPressure;

	private final Fanout fanout;

	private final SessionResumption resumption;

	private final ResumeStore resumeStore;

	/**
	 * @param refusingTraffic called when the drain starts (the auto-configuration publishes readiness
	 * REFUSING_TRAFFIC)
	 */
	public ServerSessionRegistry(ServerSettings settings, TaskScheduler scheduler, Runnable refusingTraffic) {
		this(settings, scheduler, refusingTraffic, IoPool.create("resilient-ws-server-io-", false));
	}

	/**
	 * As above, with the I/O pool to use ({@link IoPool}); the registry owns it and shuts it down.
	 */
	public ServerSessionRegistry(ServerSettings settings, TaskScheduler scheduler, Runnable refusingTraffic,
			ExecutorService pool) {
		this(settings, scheduler, refusingTraffic, pool, Fanout.singleInstance());
	}

	/**
	 * As above, with the fan-out to the other instances of the application (cluster mode); the registry
	 * starts and stops it.
	 */
	public ServerSessionRegistry(ServerSettings settings, TaskScheduler scheduler, Runnable refusingTraffic,
			ExecutorService pool, Fanout fanout) {
		this.settings = settings;
		this.fanout = fanout;
		this.scheduler = scheduler;
		this.refusingTraffic = refusingTraffic;
		this.pool = pool;
		this.pings = new PingSender(this.pool, scheduler);
		this.heartbeats = new HeartbeatSweep(scheduler, HeartbeatSweep.DEFAULT_TICK, this.pings::flush);
		this.backPressure = new InboundBackPressure(settings.send().bufferLimit(), scheduler);
		this.resumeStore = fanout.resumeStore();
		if (settings.resume().enabled()) {
			this.resumeStore.configure(settings.resume().window());
		}
		this.resumption = new SessionResumption(this, settings.resume());
	}

	/** Receives every session event (metrics, health, the endpoint). */
	public void addListener(Consumer<SessionEvent> listener) {
		this.listeners.add(listener);
	}

	// ---- finding and sending ----

	public int count() {
		return this.sessions.size();
	}

	public Collection<ManagedSession> sessions() {
		return Collections.unmodifiableCollection(this.sessions.values());
	}

	/** What each endpoint that has had a session counted, by path. */
	public Collection<EndpointStatistics> statistics() {
		return Collections.unmodifiableCollection(this.statistics.values());
	}

	/** Whether the registry is draining its sessions for shutdown (and refusing new ones). */
	public boolean isDraining() {
		return this.draining;
	}

	/** This instance's session with that id. */
	public Optional<ManagedSession> find(String sessionId) {
		return Optional.ofNullable(this.sessions.get(sessionId));
	}

	/** This instance's sessions of that user ({@link #sendToPrincipal} reaches them on every instance). */
	public List<ManagedSession> findByPrincipal(String name) {
		return this.sessions.values().stream().filter((s) -> s.principalName().filter(name::equals).isPresent()).toList();
	}

	/** This instance's sessions of that endpoint. */
	public List<ManagedSession> findByEndpoint(String path) {
		return this.sessions.values().stream().filter((s) -> s.endpoint().equals(path)).toList();
	}

	/**
	 * Sends to one session, wherever it is. A session of this instance takes the message into its send
	 * buffer (the delivery future completes when it is written). In cluster mode a session elsewhere gets
	 * it through Redis: the result is accepted, and its delivery future completes when the instance that
	 * holds the session received it, or fails with {@link SendFailure#CLOSED} (no instance holds it) or
	 * {@link SendFailure#NOT_PUBLISHED} (Redis did not take it). Without cluster mode an unknown id is
	 * rejected with {@link SendFailure#CLOSED}.
	 */
	public SendResult send(String sessionId, String text) {
		return send(sessionId, OutboundMessage.text(text));
	}

	/** As {@link #send(String, String)}, for a binary message (its remaining bytes, copied). */
	public SendResult send(String sessionId, ByteBuffer data) {
		return send(sessionId, OutboundMessage.binary(data));
	}

	private SendResult send(String sessionId, OutboundMessage message) {
		ManagedSession session = this.sessions.get(sessionId);
		if (session != null) {
			return session.send(message);
		}
		// Looked up again in order with a takeover, which may be registering the session right now.
		return this.fanout.publishing(() -> sendHereOrPublish(sessionId, message));
	}

	private SendResult sendHereOrPublish(String sessionId, OutboundMessage message) {
		ManagedSession session = this.sessions.get(sessionId);
		if (session != null) {
			return session.send(message);
		}
		CompletableFuture<ClusterPublication> published = this.fanout
			.publish(SessionSelector.session(sessionId), message.unobservedCopy());
		if (published.isDone() && published.join().status() == ClusterPublication.Status.SINGLE_INSTANCE) {
			return SendResult.rejected(SendFailure.CLOSED);
		}
		return SendResult.forwarded(published.thenCompose(ServerSessionRegistry::deliveredToOneInstance));
	}

	private static CompletableFuture<Void> deliveredToOneInstance(ClusterPublication publication) {
		if (publication.status() == ClusterPublication.Status.NOT_PUBLISHED) {
			return CompletableFuture.failedFuture(new UndeliveredMessageException(SendFailure.NOT_PUBLISHED, null));
		}
		return (publication.instances() > 0) ? CompletableFuture.completedFuture(null)
				: CompletableFuture.failedFuture(new UndeliveredMessageException(SendFailure.CLOSED, null));
	}

	/** Sends to every session of one user, on every instance. */
	public BroadcastResult sendToPrincipal(String name, String text) {
		return broadcast(text, SessionSelector.principal(name));
	}

	/** As {@link #sendToPrincipal(String, String)}, for a binary message. */
	public BroadcastResult sendToPrincipal(String name, ByteBuffer data) {
		return broadcast(data, SessionSelector.principal(name));
	}

	/** Sends to every session on every instance. */
	public BroadcastResult broadcast(String text) {
		return broadcast(text, SessionSelector.all());
	}

	/** Sends a binary message (its remaining bytes, copied once) to every session on every instance. */
	public BroadcastResult broadcast(ByteBuffer data) {
		return broadcast(data, SessionSelector.all());
	}

	/**
	 * Sends to the sessions {@code selector} selects, on every instance. Never blocks on a session: each
	 * takes the message into its own bounded buffer or refuses it. What becomes of each copy later is
	 * counted and published (meters, {@link SessionEvent.Undelivered}) by the instance that holds the
	 * session, not returned: the copies carry no delivery futures, so a broadcast costs no pool hand-off
	 * per delivered message.
	 */
	public BroadcastResult broadcast(String text, SessionSelector selector) {
		OutboundMessage message = OutboundMessage.unobservedText(text, OutboundMessage.sizeOf(text));
		return broadcast(selector, message);
	}

	/** As {@link #broadcast(String, SessionSelector)}, for a binary message. */
	public BroadcastResult broadcast(ByteBuffer data, SessionSelector selector) {
		return broadcast(selector, OutboundMessage.unobservedBinary(data));
	}

	/**
	 * Sends to the sessions of <em>this instance</em> that {@code filter} selects (a Java predicate
	 * cannot reach other instances; {@link #broadcast(String, SessionSelector)} can).
	 */
	public BroadcastResult broadcastLocally(String text, Predicate<ManagedSession> filter) {
		long size = OutboundMessage.sizeOf(text);
		int accepted = 0;
		int rejected = 0;
		for (ManagedSession session : this.sessions.values()) {
			if (filter.test(session)) {
				if (session.sendAndForget(OutboundMessage.unobservedText(text, size))) {
					accepted++;
				}
				else {
					rejected++;
				}
			}
		}
		return new BroadcastResult(accepted, rejected);
	}

	private BroadcastResult broadcast(SessionSelector selector, OutboundMessage message) {
		// Published before the local copies are queued, so that the other instances' sessions get
		// the messages of one caller in the order this instance's sessions do.
		return this.fanout.publishing(() -> {
			CompletableFuture<ClusterPublication> published = this.fanout.publish(selector, message);
			int[] counts = deliverLocally(selector, message);
			return new BroadcastResult(counts[0], counts[1], published);
		});
	}

	/** Queues an unobserved copy of {@code message} in each selected session; returns {accepted, rejected}. */
	private int[] deliverLocally(SessionSelector selector, OutboundMessage message) {
		int accepted = 0;
		int rejected = 0;
		for (ManagedSession session : candidates(selector)) {
			if (selector.matches(session)) {
				if (session.deliverPublished(message.unobservedCopy())) {
					accepted++;
				}
				else {
					rejected++;
				}
			}
		}
		return new int[] { accepted, rejected };
	}

	private Collection<ManagedSession> candidates(SessionSelector selector) {
		if (selector instanceof SessionSelector.Session one) {
			ManagedSession session = this.sessions.get(one.id());
			return (session != null) ? List.of(session) : List.of();
		}
		return this.sessions.values();
	}

	/** What the fan-out hands over: messages other instances published for sessions here. */
	private final class Receiver implements Fanout.Receiver {

		@Override
		public void deliver(SessionSelector selector, OutboundMessage message) {
			deliverLocally(selector, message);
		}

		@Override
		public void handOverRequested(String sessionId) {
			ManagedSession session = ServerSessionRegistry.this.sessions.get(sessionId);
			if (session == null || !ServerSessionRegistry.this.resumeStore.shared()) {
				return;
			}
			// On the pool, not Lettuce's event loop; decided there, as the client may have come back here.
			ServerSessionRegistry.this.pool.execute(() -> {
				if (session.isDetached() && !session.isHandedOver()) {
					session.handOver(new CloseStatus(1001, "resumed on another instance"), CloseCause.GOING_AWAY,
							ServerSessionRegistry.this.settings.shutdown().timeout());
				}
			});
		}

		@Override
		public Fanout.Counts counts() {
			Map<String, Integer> byEndpoint = new TreeMap<>();
			for (EndpointStatistics endpoint : ServerSessionRegistry.this.statistics.values()) {
				byEndpoint.put(endpoint.endpoint(), endpoint.open.get());
			}
			Map<String, Integer> byPrincipal = new HashMap<>();
			ServerSessionRegistry.this.admittedPerPrincipal.forEach((name, count) -> byPrincipal.put(name, count.get()));
			return new Fanout.Counts(byEndpoint, byPrincipal);
		}

	}

	/** The instances of this application, as this one last saw them (this one alone without cluster mode). */
	public ClusterView clusterView() {
		return this.fanout.view();
	}

	// ---- admission (called by SessionAdmissionInterceptor) ----

	/** Takes a place for a handshake; returns why it is refused (one word), or null. */
	@Nullable String admit(@Nullable String principal) {
		// Said to the refused client: what kind of refusal, never the limits.
		if (this.draining) {
			return "shutting-down";
		}
		if (!this.running) {
			// The web server starts a moment before this registry, which may wait for the cluster's
			// first heartbeat: a session accepted before then would not be resumable on another instance.
			return "starting";
		}
		int max = this.settings.maxSessions();
		if (max > 0 && this.admitted.incrementAndGet() > max) {
			this.admitted.decrementAndGet();
			return "capacity";
		}
		else if (max <= 0) {
			this.admitted.incrementAndGet();
		}
		int perPrincipal = this.settings.maxSessionsPerPrincipal();
		if (principal != null && perPrincipal > 0) {
			AtomicInteger count = this.admittedPerPrincipal.computeIfAbsent(principal, (name) -> new AtomicInteger());
			if (count.incrementAndGet() > perPrincipal) {
				count.decrementAndGet();
				this.admitted.decrementAndGet();
				return "principal-limit";
			}
			// In cluster mode the user's sessions on the other instances count too.
			if (!this.fanout.admitPrincipal(principal, perPrincipal)) {
				count.decrementAndGet();
				this.admitted.decrementAndGet();
				return "principal-limit";
			}
		}
		return null;
	}

	/** Gives back the place of a handshake that failed or a session that closed. */
	void release(@Nullable String principal) {
		this.admitted.decrementAndGet();
		if (principal != null && this.settings.maxSessionsPerPrincipal() > 0) {
			AtomicInteger count = this.admittedPerPrincipal.get(principal);
			if (count != null && count.decrementAndGet() <= 0) {
				this.admittedPerPrincipal.remove(principal, count);
			}
			this.fanout.releasePrincipal(principal);
		}
	}

	// ---- session lifecycle (called by SessionTrackingHandler) ----

	ManagedSession opened(WebSocketSession session, String endpoint) {
		return opened(session, endpoint, null, null);
	}

	/**
	 * @param resume the resume state of a session whose client asked for it, or null
	 * @param resumeAnswer the {@code S} answer written before anything else, for a resuming session
	 */
	ManagedSession opened(WebSocketSession session, String endpoint, @Nullable SessionResume resume,
			@Nullable String resumeAnswer) {
		return opened(session, endpoint, resume, resumeAnswer, null, 0);
	}

	/**
	 * @param takenOver a session another instance held, which this one continues, or null
	 * @param peerReceived how many of that session's messages its client has
	 * @return the session; null when a session taken over could not get everything published for it
	 * while no instance held it (see {@link Fanout#adopt}): nothing of it was opened here
	 */
	@Nullable ManagedSession opened(WebSocketSession session, String endpoint, @Nullable SessionResume resume,
			@Nullable String resumeAnswer, ResumeStore.@Nullable Takeover takenOver, long peerReceived) {
		EndpointStatistics counts = this.statistics.computeIfAbsent(endpoint, EndpointStatistics::new);
		ManagedSession managed = new ManagedSession(session, endpoint, this, counts, resume,
				(takenOver != null) ? takenOver.sessionId() : null);
		if (takenOver == null) {
			this.sessions.put(managed.getId(), managed);
		}
		else {
			managed.adopt(peerReceived, takenOver.unacknowledged(), takenOver.lastSeq());
			if (!this.fanout.adopt(managed, () -> this.sessions.put(managed.getId(), managed))) {
				this.sessions.remove(managed.getId(), managed);
				return null;
			}
		}
		counts.open.incrementAndGet();
		counts.opened.increment();
		managed.opened(resumeAnswer);
		if (takenOver == null) {
			this.fanout.opened(managed);
		}
		publish(new SessionEvent.Opened(session.getId(), endpoint, now()));
		return managed;
	}

	/**
	 * A connection closed.
	 * @return the session to tell the application's handler about: the managed one, the connection
	 * itself for an untracked one, or null when there is nothing to tell (a resuming session that now
	 * waits for its client, a connection it was resumed away from, one that never answered the greeting)
	 */
	@Nullable WebSocketSession closed(WebSocketSession connection, CloseStatus status) {
		SessionAdmissionInterceptor.Place place = SessionAdmissionInterceptor.claim(connection.getAttributes());
		if (place != null) {
			release(place.principal());
		}
		if (SessionResumption.neverAnswered(connection)) {
			return null;
		}
		ManagedSession managed = ManagedSession.of(connection);
		if (managed != null && managed.transport() != connection) {
			return null;
		}
		if (managed != null && managed.detachOnLoss(status)) {
			this.resumption.detached(managed, managed.resume());
			return null;
		}
		if (managed != null && managed.isHandedOver() && this.sessions.remove(managed.getId(), managed)) {
			// Ended here once the store has it all; its handler hears the close now, like the others'.
			managed.finishHandOver()
				.whenComplete((ignored, failure) -> ended(managed, status, ResumeFrame.RefusalReason.UNKNOWN));
			return managed;
		}
		if (managed == null || !this.sessions.remove(managed.getId(), managed)) {
			return connection;
		}
		ended(managed, status, ResumeFrame.RefusalReason.UNKNOWN);
		return managed;
	}

	/**
	 * A detached session ends without its client: the window passed, its buffer overflowed, or the
	 * application closed it. Its handler hears the close now ({@code status}, or the one that detached it).
	 */
	void endDetached(ManagedSession session, ResumeFrame.RefusalReason why, @Nullable CloseStatus status) {
		SessionResume resume = session.resume();
		CloseStatus lostWith = (resume != null) ? resume.end() : null;
		if (lostWith == null) {
			return;
		}
		this.resumption.detachedEnded();
		if (!this.sessions.remove(session.getId(), session)) {
			return;
		}
		CloseStatus told = (status != null) ? status : lostWith;
		ended(session, told, why);
		this.pool.execute(() -> {
			try {
				resume.handler().afterConnectionClosed(session, told);
			}
			catch (Exception ex) {
				logger.warn("The handler of session " + session.getId() + " failed on its close", ex);
			}
		});
	}

	private void ended(ManagedSession managed, CloseStatus status, ResumeFrame.RefusalReason why) {
		this.statistics.get(managed.endpoint()).open.decrementAndGet();
		this.fanout.closed(managed);
		CloseCause cause = managed.closed(status);
		SessionResume resume = managed.resume();
		if (resume != null) {
			resume.end();
			this.resumption.ended(managed, resume, why);
		}
		publish(new SessionEvent.Closed(managed.getId(), managed.endpoint(), status.getCode(), cause, now()));
	}

	/** How many resuming sessions have lost their connection and wait for their client. */
	public long detachedCount() {
		return this.resumption.detachedCount();
	}

	/** Where resuming sessions keep their state for other instances. */
	ResumeStore resumeStore() {
		return this.resumeStore;
	}

	/** The registry's part of session resume. */
	SessionResumption resumption() {
		return this.resumption;
	}

	// ---- shared resources ----

	ServerSettings settings() {
		return this.settings;
	}

	TaskScheduler scheduler() {
		return this.scheduler;
	}

	ExecutorService pool() {
		return this.pool;
	}

	HeartbeatSweep heartbeats() {
		return this.heartbeats;
	}

	PingSender pings() {
		return this.pings;
	}

	InboundBackPressure backPressure() {
		return this.backPressure;
	}

	void publish(SessionEvent event) {
		for (Consumer<SessionEvent> listener : this.listeners) {
			try {
				listener.accept(event);
			}
			catch (RuntimeException ex) {
				logger.warn("Session event listener failed", ex);
			}
		}
	}

	private Instant now() {
		return this.scheduler.getClock().instant();
	}

	// ---- lifecycle: the sweep and the drain ----

	/** Joins the cluster (in cluster mode: waits for its first heartbeat), then admits handshakes. */
	@Override
	public void start() {
		this.draining = false;
		this.fanout.start(new Receiver());
		this.running = true;
		scheduleSweep();
	}

	// One task for all sessions finds writes stuck longer than the send time limit, even when no other
	// send comes along to notice (which is all Spring's ConcurrentWebSocketSessionDecorator can do).
	private void scheduleSweep() {
		Duration period = this.settings.sendTimeLimit().dividedBy(4);
		Duration every = (period.compareTo(Duration.ofSeconds(1)) > 0) ? Duration.ofSeconds(1)
				: (period.compareTo(Duration.ofMillis(50)) < 0) ? Duration.ofMillis(50) : period;
		this.sweep = this.scheduler.schedule(() -> {
			Instant now = now();
			for (ManagedSession session : this.sessions.values()) {
				session.checkStalled(now);
			}
			if (this.running) {
				scheduleSweep();
			}
		}, now().plus(every));
	}

	@Override
	public void stop() {
		drain().join();
	}

	@Override
	public void stop(Runnable callback) {
		drain().whenComplete((ignored, failure) -> callback.run());
	}

	/**
	 * Refuses new upgrades, then closes every session with the shutdown code, each at its own moment
	 * spread over the drain period (evenly, with jitter inside each slot), after its buffered messages
	 * have been written (for at most the shutdown timeout).
	 */
	private CompletableFuture<Void> drain() {
		this.running = false;
		this.draining = true;
		ScheduledFuture<?> sweepTask = this.sweep;
		if (sweepTask != null) {
			sweepTask.cancel(false);
		}
		this.refusingTraffic.run();
		// Out of the cluster view first, so that no instance counts or routes to this one any more.
		this.fanout.leave();
		List<ManagedSession> open = new ArrayList<>(this.sessions.values());
		if (open.isEmpty()) {
			return CompletableFuture.completedFuture(null);
		}
		Collections.shuffle(open);
		ServerSettings.Shutdown shutdown = this.settings.shutdown();
		CloseStatus status = new CloseStatus(shutdown.closeCode(), "server shutting down");
		long slotNanos = shutdown.drainPeriod().toNanos() / open.size();
		Instant start = now();
		List<CompletableFuture<Void>> closing = new ArrayList<>();
		for (int i = 0; i < open.size(); i++) {
			ManagedSession session = open.get(i);
			long offset = i * slotNanos + ((slotNanos > 0) ? ThreadLocalRandom.current().nextLong(slotNanos) : 0);
			CompletableFuture<Void> closed = new CompletableFuture<>();
			// In cluster mode a resuming session is handed over to the instance its client comes back to.
			boolean handOver = this.resumeStore.shared() && session.resume() != null;
			this.scheduler.schedule(
					() -> (handOver ? session.handOver(status, CloseCause.SHUTDOWN, shutdown.timeout())
							: session.closeAfterFlush(status, CloseCause.SHUTDOWN, shutdown.timeout()))
						.whenComplete((ignored, failure) -> closed.complete(null)),
					start.plusNanos(offset));
			closing.add(closed);
		}
		logger.info("Draining " + open.size() + " WebSocket sessions over " + shutdown.drainPeriod().toMillis() + " ms");
		return CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new))
			.completeOnTimeout(null, shutdown.drainPeriod().plus(shutdown.timeout()).plusSeconds(1).toMillis(),
					TimeUnit.MILLISECONDS);
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return PHASE;
	}

	@Override
	public void destroy() {
		this.fanout.stop();
		this.pool.shutdown();
	}

}
