package io.resilientws.benchmarks.jmh;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.resilientws.ResilientWsScheduler;
import io.resilientws.client.ReconnectPolicy;
import io.resilientws.client.ReconnectSettings;
import io.resilientws.heartbeat.Heartbeat;
import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.heartbeat.HeartbeatSweep;
import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import io.resilientws.send.OverflowPolicy;
import io.resilientws.send.RateLimiter;
import io.resilientws.send.SendFailure;
import io.resilientws.send.SendLimits;
import io.resilientws.send.SendResult;
import io.resilientws.send.SerialExecutor;
import io.resilientws.server.BenchmarkAccess;
import io.resilientws.server.BroadcastResult;
import io.resilientws.server.ManagedSession;
import io.resilientws.server.ServerOverflowPolicy;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.ServerSettings;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The per-message and per-event hot paths of resilient-ws, without I/O:
 * <ul>
 * <li>send accounting: offer → write → completion through {@link OutboundQueue}, with a writer that
 * completes at once (the queue's own cost per message), and a refused offer on a full buffer; each
 * also for an unobserved message (no delivery future), as broadcasts and {@code sendMessage} send;</li>
 * <li>the token-bucket {@link RateLimiter};</li>
 * <li>registry lookup (what every inbound server message does) among 10,000 sessions, and a broadcast
 * to 1,000 sessions (stub sessions whose asynchronous remote endpoint completes each write at once:
 * the registry's own cost per session, without a socket);</li>
 * <li>reconnect backoff: a fresh series and its next delays;</li>
 * <li>the heartbeat's per-frame timestamp.</li>
 * </ul>
 * Run with {@code benchmarks/run.sh jmh}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HotPathBenchmarks {

	static final String KIB = "x".repeat(1024);

	@State(Scope.Thread)
	public static class Queue {

		ResilientWsScheduler scheduler;

		OutboundQueue immediate;

		OutboundQueue full;

		OutboundQueue pooled;

		ExecutorService pool;

		@Setup(Level.Trial)
		public void setUp() {
			this.scheduler = ResilientWsScheduler.create();
			this.pool = Executors.newCachedThreadPool((task) -> {
				Thread thread = new Thread(task, "completions");
				thread.setDaemon(true);
				return thread;
			});
			SendLimits limits = new SendLimits(1024 * 1024, OverflowPolicy.REJECT, Duration.ofSeconds(5), 0, 1);
			OutboundQueue.Observer observer = new OutboundQueue.Observer() {
				@Override
				public void undelivered(SendFailure reason) {
				}

				@Override
				public void overflowClose() {
				}
			};
			this.immediate = new OutboundQueue(limits, this.scheduler.taskScheduler(), Runnable::run, observer);
			this.immediate.attach((message) -> CompletableFuture.completedFuture(null));
			this.full = new OutboundQueue(new SendLimits(1024, OverflowPolicy.REJECT, Duration.ofSeconds(5), 0, 1),
					this.scheduler.taskScheduler(), Runnable::run, observer);
			this.full.attach((message) -> new CompletableFuture<>());
			this.full.offer(OutboundMessage.text(KIB));
			// As ManagedSession and ManagedConnection build it: futures completed in order on a shared pool.
			this.pooled = new OutboundQueue(limits, this.scheduler.taskScheduler(), new SerialExecutor(this.pool),
					observer);
			this.pooled.attach((message) -> CompletableFuture.completedFuture(null));
		}

		@TearDown(Level.Trial)
		public void tearDown() {
			this.scheduler.destroy();
			this.pool.shutdown();
		}

	}

	/** A 1 KiB text through the whole send path: count, queue, write, account, complete the future. */
	@Benchmark
	public SendResult sendAccounting1KiB(Queue queue) {
		return queue.immediate.offer(OutboundMessage.text(KIB));
	}

	/**
	 * The same, with the delivery future completed as the library does it: handed to a per-connection
	 * {@link SerialExecutor} over a shared pool, so each message costs a hand-off to another thread.
	 */
	@Benchmark
	public SendResult sendAccounting1KiBPoolCompletion(Queue queue) {
		return queue.pooled.offer(OutboundMessage.text(KIB));
	}

	/** The same message refused by a full buffer (REJECT): what a broadcast pays for a slow session. */
	@Benchmark
	public SendResult sendRejectedBufferFull(Queue queue) {
		return queue.full.offer(OutboundMessage.text(KIB));
	}

	/**
	 * The pooled queue again, with a message nobody observes (as a broadcast and Spring's
	 * {@code sendMessage} send): no delivery future, so no hand-off to the pool.
	 */
	@Benchmark
	public boolean sendAccounting1KiBUnobserved(Queue queue) {
		return queue.pooled.offerAndForget(OutboundMessage.unobservedText(KIB));
	}

	/** An unobserved message refused by a full buffer: no result, no exception, only the observer. */
	@Benchmark
	public boolean sendRejectedBufferFullUnobserved(Queue queue) {
		return queue.full.offerAndForget(OutboundMessage.unobservedText(KIB));
	}

	@State(Scope.Thread)
	public static class Limiter {

		RateLimiter limiter;

		@Setup
		public void setUp() {
			// Never runs dry: measures the refill arithmetic and the clock read of every acquire.
			this.limiter = new RateLimiter(1e12, 1_000_000, Clock.systemUTC());
		}

	}

	@Benchmark
	public boolean rateLimiterTryAcquire(Limiter limiter) {
		return limiter.limiter.tryAcquire();
	}

	@State(Scope.Benchmark)
	public static class Registry {

		@Param({ "10000" })
		int sessions;

		ResilientWsScheduler scheduler;

		ServerSessionRegistry registry;

		String[] ids;

		@Setup(Level.Trial)
		public void setUp() {
			this.scheduler = ResilientWsScheduler.create();
			HeartbeatSettings heartbeat = new HeartbeatSettings(false, Duration.ofSeconds(25), Duration.ofSeconds(10), 1,
					true, HeartbeatMode.FRAME, HeartbeatSettings.DEFAULT_PING_TEXT, HeartbeatSettings.DEFAULT_PONG_TEXT);
			ServerSettings settings = new ServerSettings(heartbeat,
					new ServerSettings.AppHeartbeat(true, "__rws_ping__", "__rws_pong__"),
					new SendLimits(512 * 1024, OverflowPolicy.CLOSE, Duration.ofSeconds(5), 0, 1),
					ServerOverflowPolicy.TERMINATE, Duration.ofSeconds(10), 1013, 0, 0, 10, 0, 0, Duration.ofSeconds(10),
					List.of(), new ServerSettings.Shutdown(1001, Duration.ofSeconds(5), Duration.ofSeconds(10)), ServerSettings.Resume.DISABLED);
			this.registry = new ServerSessionRegistry(settings, this.scheduler.taskScheduler(), () -> {
			});
			this.ids = new String[this.sessions];
			for (int i = 0; i < this.sessions; i++) {
				this.ids[i] = java.util.UUID.randomUUID().toString();
				BenchmarkAccess.open(this.registry, new StubSession(this.ids[i]), "/ws");
			}
		}

		@TearDown(Level.Trial)
		public void tearDown() {
			this.registry.destroy();
			this.scheduler.destroy();
		}

	}

	/** Finding a session by id (registry.find, send(id, ...)); the per-message path reads a session attribute. */
	@Benchmark
	public ManagedSession registryLookup(Registry registry) {
		return BenchmarkAccess.get(registry.registry, registry.ids[ThreadLocalRandom.current().nextInt(registry.ids.length)]);
	}

	@State(Scope.Thread)
	public static class Broadcast {

		ResilientWsScheduler scheduler;

		ServerSessionRegistry registry;

		@Setup(Level.Iteration)
		public void setUp() {
			this.scheduler = ResilientWsScheduler.create();
			HeartbeatSettings heartbeat = new HeartbeatSettings(false, Duration.ofSeconds(25), Duration.ofSeconds(10), 1,
					true, HeartbeatMode.FRAME, HeartbeatSettings.DEFAULT_PING_TEXT, HeartbeatSettings.DEFAULT_PONG_TEXT);
			ServerSettings settings = new ServerSettings(heartbeat,
					new ServerSettings.AppHeartbeat(true, "__rws_ping__", "__rws_pong__"),
					new SendLimits(64 * 1024, OverflowPolicy.DROP_OLDEST, Duration.ofSeconds(5), 0, 1),
					ServerOverflowPolicy.DROP_OLDEST, Duration.ofSeconds(10), 1013, 0, 0, 10, 0, 0,
					Duration.ofSeconds(10), List.of(),
					new ServerSettings.Shutdown(1001, Duration.ofSeconds(5), Duration.ofSeconds(10)), ServerSettings.Resume.DISABLED);
			this.registry = new ServerSessionRegistry(settings, this.scheduler.taskScheduler(), () -> {
			});
			for (int i = 0; i < 1000; i++) {
				BenchmarkAccess.open(this.registry, new StubSession("s" + i), "/ws");
			}
		}

		@TearDown(Level.Iteration)
		public void tearDown() {
			this.registry.destroy();
			this.scheduler.destroy();
		}

	}

	/** One 1 KiB broadcast to 1,000 sessions (the whole loop; divide by 1,000 for one session). */
	@Benchmark
	@OutputTimeUnit(TimeUnit.MICROSECONDS)
	public BroadcastResult broadcast1KiBTo1000Sessions(Broadcast broadcast) {
		return broadcast.registry.broadcast(KIB);
	}

	@State(Scope.Thread)
	public static class Backoff {

		ReconnectSettings settings = new ReconnectSettings(true, Duration.ofSeconds(1), Duration.ofSeconds(30), 2.0,
				Duration.ofMillis(500), Long.MAX_VALUE, Duration.ofSeconds(30), Duration.ofSeconds(10),
				ReconnectPolicy.defaults());

	}

	/** A fresh backoff series (as after a stable connection is lost) and its first 8 delays. */
	@Benchmark
	public void backoffSeriesOf8(Backoff backoff, Blackhole blackhole) {
		var execution = backoff.settings.startBackOff();
		for (int i = 0; i < 8; i++) {
			blackhole.consume(execution.nextBackOff());
		}
	}

	@State(Scope.Thread)
	public static class Beat {

		ResilientWsScheduler scheduler;

		Heartbeat heartbeat;

		@Setup(Level.Trial)
		public void setUp() {
			this.scheduler = ResilientWsScheduler.create();
			HeartbeatSettings settings = new HeartbeatSettings(true, Duration.ofSeconds(25), Duration.ofSeconds(10), 1,
					true, HeartbeatMode.FRAME, HeartbeatSettings.DEFAULT_PING_TEXT, HeartbeatSettings.DEFAULT_PONG_TEXT);
			this.heartbeat = new Heartbeat(settings, new HeartbeatSweep(this.scheduler.taskScheduler()), new Heartbeat.Peer() {
				@Override
				public void sendPing() {
				}

				@Override
				public void declareDead(String description) {
				}
			});
		}

		@TearDown(Level.Trial)
		public void tearDown() {
			this.scheduler.destroy();
		}

	}

	/** What every inbound frame costs the heartbeat (any-frame-counts: a timestamp under its lock). */
	@Benchmark
	public void heartbeatFrameReceived(Beat beat) {
		beat.heartbeat.frameReceived();
	}

	/** UTF-8 size counting of a 1 KiB text, done once per send (and once per broadcast). */
	@Benchmark
	public long utf8Size1KiB() {
		return OutboundMessage.sizeOf(KIB);
	}


}
