package io.resilientws.benchmarks.scenario;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

import io.resilientws.benchmarks.driver.FreezableProxy;
import io.resilientws.benchmarks.driver.Latency;
import io.resilientws.benchmarks.driver.Payloads;
import io.resilientws.benchmarks.driver.ProcessCost;
import io.resilientws.benchmarks.driver.RedisProcess;
import io.resilientws.benchmarks.driver.ResumingClient;
import io.resilientws.benchmarks.driver.ServerProcess;
import io.resilientws.benchmarks.driver.ServerProcess.Kind;
import io.resilientws.benchmarks.driver.ThreadCpu;
import io.resilientws.benchmarks.report.Results;

import org.jspecify.annotations.Nullable;

import static io.resilientws.benchmarks.report.Results.fmt;

/**
 * Issue 13: what session resume costs. Three servers, alternated per rep (order rotated), each a fresh
 * process: plain Spring ({@code resilient-ws.server.enabled=false}), resilient-ws with resume off, and
 * resilient-ws with {@code resilient-ws.server.resume.enabled=true} whose clients ask for it. Every
 * client is a {@link ResumingClient} (the same code with the protocol off for the first two).
 * <ul>
 * <li><b>echo</b>: {@code --inflight} messages in flight over {@code --connections} connections
 * (pipelined closed loop: each echo sends the next), {@code --sizes}; messages/s, p50/p99 round trip,
 * the server's CPU per message;</li>
 * <li><b>fan-out</b>: paced broadcasts of {@code --size} bytes to {@code --sessions} sessions at
 * {@code --rates} broadcasts/s for {@code --step} s each; deliveries/s, p50/p99 (from the time each
 * broadcast was due), server CPU per delivery;</li>
 * <li><b>storm</b> (resume off and on): {@code --storm-clients} clients through a {@link FreezableProxy},
 * a broadcast of {@code --storm-rate}/s running, every link reset at once after {@code --cut-after} s;
 * every client reconnects at once (at most 100 handshakes in flight): time until all are back (with
 * {@code recovered=1} when resuming), messages replayed (the server's own count), and each client's
 * check of the broadcast's sequence (every message once, in order).</li>
 * </ul>
 * Options: {@code --reps=3 --parts=echo,fanout,storm --connections=4 --inflight=100 --sizes=64,1024
 * --warmup=2 --measure=5 --sessions=1000 --rates=5,10,20,40 --step=6 --size=1024 --storm-clients=2000
 * --storm-rate=5 --storm-size=256 --storm-seconds=40 --cut-after=6 --cluster=false}. With {@code --cluster=true}
 * both resilient-ws servers run in cluster mode on a redis-server the scenario starts, so that resume on
 * journals every message in Redis (docs/RESUME-PROTOCOL.md §7); the storm part does not apply there, and
 * the warm-up and measured windows default to 20 s and 10 s.
 */
public final class ResumeScenario {

	record Variant(String name, String label, Kind kind, List<String> args, boolean resume, boolean cluster) {
	}

	record EchoSample(double messagesPerSecond, double p50, double p99, double cpuMicrosPerMessage,
			double acksToClientPerThousand, double acksFromClientPerThousand, double ackCharsToClient,
			double ackCharsFromClient, double escapeChars, RedisCost redis, double contextSwitchesPerMessage,
			String threadCpu) {
	}

	record FanoutSample(double offered, double delivered, double p50, double p99, long missing,
			double cpuMicrosPerDelivery, double acksPerThousand, double ackChars, RedisCost redis) {
	}

	/** What Redis spent per message in a measured window (NaN without Redis): CPU µs and script calls. */
	record RedisCost(double cpuMicrosPerMessage, double scriptCallsPerMessage) {

		static final RedisCost NONE = new RedisCost(Double.NaN, Double.NaN);

	}

	/** Redis's counters at the start of a window. */
	private record RedisMark(ProcessCost cost, long scriptCalls) {
	}

	record StormSample(double connectSeconds, double allBackSeconds, double p50BackSeconds, int back, int recovered,
			long replayed, long caughtUp, long sent, long lost, long duplicated, long clientsWithErrors, long failedAttempts, long helloTimeouts,
			long refused,
			String refusedReasons) {
	}

	static final Variant PLAIN = new Variant("plain", "plain Spring", Kind.PLAIN, List.of(), false, false);

	static final Variant OFF = new Variant("off", "resilient-ws, resume off", Kind.STARTER, List.of(), false, false);

	static final Variant ON = new Variant("on", "resilient-ws, resume on", Kind.STARTER,
			List.of("--resilient-ws.server.resume.enabled=true"), true, false);

	static final Variant CLUSTER_OFF = new Variant("cluster-off", "cluster mode, resume off", Kind.STARTER, List.of(),
			false, true);

	static final Variant CLUSTER_ON = new Variant("cluster-on", "cluster mode, resume on (Redis journal)",
			Kind.STARTER, List.of("--resilient-ws.server.resume.enabled=true"), true, true);

	private final int reps;

	private final List<String> parts;

	private final int connections;

	private final int inflight;

	private final List<Integer> sizes;

	private final Duration warmup;

	private final Duration measure;

	private final int sessions;

	private final List<Integer> rates;

	private final Duration step;

	private final int size;

	private final int stormClients;

	private final int stormRate;

	private final int stormSize;

	private final Duration stormFor;

	private final Duration cutAfter;

	/** {@code --cluster}: the same parts on one instance in cluster mode with a real redis-server, resume off and on. */
	private final boolean cluster;

	/** The variants compared, and the one "resume off" means. */
	private final List<Variant> variants;

	private final Variant off;

	private final Variant on;

	private @Nullable RedisProcess redis;

	private final Map<Variant, Map<Integer, List<EchoSample>>> echo = new LinkedHashMap<>();

	private final Map<Variant, Map<Integer, List<FanoutSample>>> fanout = new LinkedHashMap<>();

	private final Map<Variant, List<StormSample>> storm = new LinkedHashMap<>();

	public ResumeScenario(Map<String, String> options) {
		this.reps = Integer.parseInt(options.getOrDefault("reps", "3"));
		this.parts = List.of(options.getOrDefault("parts", "echo,fanout,storm").split(","));
		this.connections = Integer.parseInt(options.getOrDefault("connections", "4"));
		this.inflight = Integer.parseInt(options.getOrDefault("inflight", "100"));
		this.sizes = EchoScenario.ints(options.getOrDefault("sizes", "64,1024"));
		this.sessions = Integer.parseInt(options.getOrDefault("sessions", "1000"));
		this.rates = EchoScenario.ints(options.getOrDefault("rates", "5,10,20,40"));
		this.step = Duration.ofSeconds(Long.parseLong(options.getOrDefault("step", "6")));
		this.size = Integer.parseInt(options.getOrDefault("size", "1024"));
		this.stormClients = Integer.parseInt(options.getOrDefault("storm-clients", "2000"));
		this.stormRate = Integer.parseInt(options.getOrDefault("storm-rate", "5"));
		this.stormSize = Integer.parseInt(options.getOrDefault("storm-size", "256"));
		this.stormFor = Duration.ofSeconds(Long.parseLong(options.getOrDefault("storm-seconds", "40")));
		this.cutAfter = Duration.ofSeconds(Long.parseLong(options.getOrDefault("cut-after", "6")));
		this.cluster = Boolean.parseBoolean(options.getOrDefault("cluster", "false"));
		// The journal's code paths take longer to compile: with 2 s of warm-up the cluster servers were
		// still compiling, which overstated resume's cost by half (BENCHMARKS §20).
		this.warmup = Duration.ofSeconds(Long.parseLong(options.getOrDefault("warmup", this.cluster ? "20" : "2")));
		this.measure = Duration.ofSeconds(Long.parseLong(options.getOrDefault("measure", this.cluster ? "10" : "5")));
		this.variants = this.cluster ? List.of(PLAIN, CLUSTER_OFF, CLUSTER_ON) : List.of(PLAIN, OFF, ON);
		this.off = this.cluster ? CLUSTER_OFF : OFF;
		this.on = this.cluster ? CLUSTER_ON : ON;
	}

	public void run() {
		if (this.cluster) {
			try (RedisProcess started = RedisProcess.start()) {
				this.redis = started;
				System.out.println("redis-server on port " + started.port());
				runAll();
			}
		}
		else {
			runAll();
		}
	}

	private void runAll() {
		String loadBefore = Results.loadAverage();
		System.out.println("load average before: " + loadBefore);
		List<Variant> variants = this.variants;
		for (int rep = 0; rep < this.reps; rep++) {
			for (int v = 0; v < variants.size(); v++) {
				Variant variant = variants.get((v + rep) % variants.size());
				if (this.parts.contains("echo") || this.parts.contains("fanout")) {
					try (ServerProcess server = ServerProcess.start(variant.kind, 18085, "1g", args(variant))) {
						System.out.println("rep " + (rep + 1) + ": " + variant.label + " up, pid " + server.pid()
								+ ", load average " + Results.loadAverage());
						awaitClusterUp(variant, server);
						if (this.parts.contains("echo")) {
							runEcho(variant, server);
						}
						if (this.parts.contains("fanout")) {
							runFanout(variant, server);
						}
					}
				}
				if (this.parts.contains("storm") && variant != PLAIN) {
					StormSample sample = runStorm(variant);
					this.storm.computeIfAbsent(variant, (k) -> new ArrayList<>()).add(sample);
					System.out.println(fmt("  %-26s storm: first connect of all took %.2f s; %d of %d back after %.2f s "
							+ "(p50 %.2f s), recovered=1: %d, replayed %d (%.0f/s), caught up %d, broadcast %d, lost %d, "
							+ "duplicated %d, clients with errors %d, failed attempts %d, no H/S within 5 s %d, refused %d %s",
							variant.label, sample.connectSeconds, sample.back, this.stormClients, sample.allBackSeconds,
							sample.p50BackSeconds, sample.recovered, sample.replayed, sample.replayed / sample.allBackSeconds,
							sample.caughtUp, sample.sent, sample.lost, sample.duplicated, sample.clientsWithErrors,
							sample.failedAttempts, sample.helloTimeouts, sample.refused, sample.refusedReasons));
				}
			}
		}
		report(loadBefore);
	}

	/**
	 * The container's default 8 KiB message buffers: every message here is 1 KiB or less, and 128 KiB
	 * buffers (the echo scenario's) cost Tomcat ~384 KiB of heap per session, which 2,000 sessions and
	 * their replacements during the storm do not fit into the server's 1 GiB.
	 */
	private List<String> args(Variant variant) {
		RedisProcess started = this.redis;
		if (!variant.cluster || started == null) {
			return variant.args;
		}
		List<String> args = new ArrayList<>(variant.args);
		args.addAll(List.of("--resilient-ws.cluster.enabled=true", "--resilient-ws.cluster.node-id=bench-1",
				"--spring.data.redis.host=127.0.0.1", "--spring.data.redis.port=" + started.port()));
		return args;
	}

	/**
	 * A cluster variant admits sessions once the instance is UP in the cluster and its registry has
	 * started, a moment later: clients that connect before (as soon as HTTP answers) are refused with 503.
	 */
	private static void awaitClusterUp(Variant variant, ServerProcess server) {
		if (!variant.cluster) {
			return;
		}
		long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
		while (!admitting(server.stats(false))) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException(variant.label + ": not UP in the cluster within 30 s");
			}
			EchoScenario.sleep(Duration.ofMillis(50));
		}
	}

	private static boolean admitting(Map<String, Object> stats) {
		return "UP".equals(stats.get("clusterStatus")) && Boolean.TRUE.equals(stats.get("admitting"));
	}

	// ---- echo ----------------------------------------------------------------------------------

	private void runEcho(Variant variant, ServerProcess server) {
		echoOnce(variant, server, 1024, Duration.ofSeconds(5), true);
		for (int size : this.sizes) {
			EchoSample sample = echoOnce(variant, server, size, this.measure, false);
			this.echo.computeIfAbsent(variant, (k) -> new LinkedHashMap<>())
				.computeIfAbsent(size, (k) -> new ArrayList<>())
				.add(sample);
			System.out.println(fmt("  %-26s echo %5d B x %d in flight: %9.0f msg/s  p50 %7.3f ms  p99 %7.3f ms  "
					+ "server CPU %.2f µs/msg  A per 1000 msgs: to client %.1f, from client %.1f  Redis %.1f µs/msg, "
					+ "%.3f script calls/msg, server context switches %.2f/msg", variant.label, size, this.inflight,
					sample.messagesPerSecond, sample.p50, sample.p99, sample.cpuMicrosPerMessage,
					sample.acksToClientPerThousand, sample.acksFromClientPerThousand, sample.redis.cpuMicrosPerMessage(),
					sample.redis.scriptCallsPerMessage(), sample.contextSwitchesPerMessage));
			System.out.println("    server CPU µs/msg by thread group: " + sample.threadCpu);
		}
	}

	private EchoSample echoOnce(Variant variant, ServerProcess server, int size, Duration duration, boolean warmupOnly) {
		Latency latency = new Latency();
		LongAdder count = new LongAdder();
		boolean[] running = { true };
		List<ResumingClient> clients = new ArrayList<>();
		try (ResumingClient.Shared shared = new ResumingClient.Shared(this.connections, 2, 50)) {
			ResumingClient.Receiver echoed = (client, text, arrival) -> {
				latency.recordNanos(arrival - Payloads.stampOf(text));
				count.increment();
				if (running[0]) {
					client.send(Payloads.stamped(System.nanoTime(), size));
				}
			};
			List<CompletableFuture<Boolean>> ready = new ArrayList<>();
			for (int i = 0; i < this.connections; i++) {
				ResumingClient client = new ResumingClient(shared, server.wsUri(), variant.resume, echoed);
				clients.add(client);
				ready.add(client.connect());
			}
			ready.forEach((f) -> f.orTimeout(30, TimeUnit.SECONDS).join());
			for (int i = 0; i < this.inflight; i++) {
				clients.get(i % clients.size()).send(Payloads.stamped(System.nanoTime(), size));
			}
			EchoScenario.sleep(warmupOnly ? duration : this.warmup);
			if (warmupOnly) {
				running[0] = false;
				return null;
			}
			latency.reset();
			count.reset();
			shared.resetCounters();
			long cpuBefore = cpu(server);
			long switchesBefore = ProcessCost.of(server.pid()).contextSwitches();
			ThreadCpu threadsBefore = ThreadCpu.of(server.pid());
			RedisMark redisBefore = redisMark(variant);
			long start = System.nanoTime();
			EchoScenario.sleep(duration);
			long messages = count.sum();
			long elapsed = System.nanoTime() - start;
			long cpuAfter = cpu(server);
			long switches = ProcessCost.of(server.pid()).contextSwitches() - switchesBefore;
			String threadCpu = ThreadCpu.of(server.pid()).perMessage(threadsBefore, messages, 6);
			RedisCost redisCost = redisCost(redisBefore, messages);
			double p50 = latency.percentileMillis(50);
			double p99 = latency.percentileMillis(99);
			running[0] = false;
			double received = Math.max(1, shared.dataReceived.sum());
			double sent = Math.max(1, shared.dataSent.sum());
			return new EchoSample(messages * 1e9 / elapsed, p50, p99, (cpuAfter - cpuBefore) / 1000.0 / messages,
					shared.acksReceived.sum() * 1000.0 / received, shared.acksSent.sum() * 1000.0 / sent,
					avg(shared.ackBytesReceived, shared.acksReceived), avg(shared.ackBytesSent, shared.acksSent),
					shared.escapeChars.sum(), redisCost, (double) switches / messages, threadCpu);
		}
		finally {
			running[0] = false;
			EchoScenario.sleep(Duration.ofMillis(200));
			clients.forEach(ResumingClient::close);
			EchoScenario.sleep(Duration.ofMillis(300));
			clients.forEach(ResumingClient::abort);
		}
	}

	// "–" where Redis was not measured (no journal in that variant).
	private static String redisColumn(List<Double> values, String format) {
		return values.stream().anyMatch((value) -> value.isNaN()) ? "–" : Results.spread(values, format);
	}

	private static double avg(LongAdder total, LongAdder count) {
		return (count.sum() == 0) ? 0 : (double) total.sum() / count.sum();
	}

	// Only for the variant that journals (cluster mode with resume): the others do not use Redis per message.
	private @Nullable RedisMark redisMark(Variant variant) {
		RedisProcess started = this.redis;
		if (started == null || !variant.cluster || !variant.resume) {
			return null;
		}
		return new RedisMark(started.cost(), started.scriptCalls());
	}

	private RedisCost redisCost(@Nullable RedisMark before, long messages) {
		RedisProcess started = this.redis;
		if (before == null || started == null || messages == 0) {
			return RedisCost.NONE;
		}
		long calls = started.scriptCalls();
		return new RedisCost(started.cost().cpuMicrosPerMessage(before.cost(), messages),
				(calls < 0 || before.scriptCalls() < 0) ? Double.NaN : (double) (calls - before.scriptCalls()) / messages);
	}

	private static long cpu(ServerProcess server) {
		return ((Number) server.stats(false).get("cpuNanos")).longValue();
	}

	// ---- fan-out -------------------------------------------------------------------------------

	/** Counts and latencies of broadcast deliveries. */
	static final class Deliveries {

		final Latency latency = new Latency();

		final LongAdder count = new LongAdder();

		final AtomicLong firstStamp = new AtomicLong(Long.MAX_VALUE);

		final AtomicLong lastArrival = new AtomicLong();

		void reset() {
			this.latency.reset();
			this.count.reset();
			this.firstStamp.set(Long.MAX_VALUE);
			this.lastArrival.set(0);
		}

		void received(CharSequence text, long arrival) {
			long stamp = Payloads.stampOf(text);
			this.latency.recordNanos(arrival - stamp);
			this.count.increment();
			this.firstStamp.accumulateAndGet(stamp, Math::min);
			this.lastArrival.accumulateAndGet(arrival, Math::max);
		}

	}

	private void runFanout(Variant variant, ServerProcess server) {
		Deliveries deliveries = new Deliveries();
		List<ResumingClient> clients = new ArrayList<>();
		try (ResumingClient.Shared shared = new ResumingClient.Shared(4, 2, 50)) {
			List<CompletableFuture<Boolean>> ready = new ArrayList<>();
			for (int i = 0; i < this.sessions; i++) {
				ResumingClient client = new ResumingClient(shared, server.wsUri(), variant.resume,
						(c, text, arrival) -> deliveries.received(text, arrival));
				clients.add(client);
				ready.add(client.connect());
			}
			ready.forEach((f) -> f.orTimeout(60, TimeUnit.SECONDS).join());
			fanoutOnce(variant, server, shared, deliveries, 10, Duration.ofSeconds(3));
			for (int rate : this.rates) {
				FanoutSample sample = fanoutOnce(variant, server, shared, deliveries, rate, this.step);
				this.fanout.computeIfAbsent(variant, (k) -> new LinkedHashMap<>())
					.computeIfAbsent(rate, (k) -> new ArrayList<>())
					.add(sample);
				System.out.println(fmt("  %-26s fanout offered %8.0f/s delivered %8.0f/s p50 %s ms p99 %s ms "
						+ "missing %d server CPU %.2f µs/delivery A per 1000 deliveries %.1f Redis %.1f µs/delivery, "
						+ "%.3f script calls/delivery", variant.label, sample.offered, sample.delivered,
						FanoutScenario.ms(sample.p50), FanoutScenario.ms(sample.p99), sample.missing,
						sample.cpuMicrosPerDelivery, sample.acksPerThousand, sample.redis.cpuMicrosPerMessage(),
						sample.redis.scriptCallsPerMessage()));
			}
		}
		finally {
			clients.forEach(ResumingClient::close);
			EchoScenario.sleep(Duration.ofMillis(500));
			clients.forEach(ResumingClient::abort);
		}
	}

	/** One paced broadcast, then waits for every delivery (or 2 s without any, at most 30 s). */
	private FanoutSample fanoutOnce(Variant variant, ServerProcess server, ResumingClient.Shared shared,
			Deliveries deliveries, int rate, Duration duration) {
		deliveries.reset();
		shared.resetCounters();
		int count = (int) (rate * duration.toMillis() / 1000);
		long started = System.nanoTime();
		long cpuBefore = cpu(server);
		RedisMark redisBefore = redisMark(variant);
		server.broadcast(count, rate, this.size);
		long expected = (long) count * this.sessions;
		awaitCount(deliveries.count, expected, Duration.ofSeconds(2), Duration.ofSeconds(30));
		long cpuAfter = cpu(server);
		long received = deliveries.count.sum();
		RedisCost redisCost = redisCost(redisBefore, received);
		Latency latency = new Latency();
		latency.histogram().add(deliveries.latency.histogram());
		for (long i = received; i < expected; i++) {
			latency.recordNanos(Long.MAX_VALUE);
		}
		double seconds = Math.max(1e-9, (deliveries.lastArrival.get() - Math.max(deliveries.firstStamp.get(), started)) / 1e9);
		return new FanoutSample((double) expected / duration.toSeconds(), received / seconds,
				latency.percentileMillis(50), latency.percentileMillis(99), expected - received,
				(cpuAfter - cpuBefore) / 1000.0 / Math.max(1, received),
				shared.acksSent.sum() * 1000.0 / Math.max(1, received), avg(shared.ackBytesSent, shared.acksSent),
				redisCost);
	}

	/** Waits until {@code count} reaches {@code expected}, or it did not move for {@code quiet}, or {@code limit}. */
	private static void awaitCount(LongAdder count, long expected, Duration quiet, Duration limit) {
		long deadline = System.nanoTime() + limit.toNanos();
		long lastSeen = -1;
		long quietSince = System.nanoTime();
		while (System.nanoTime() < deadline) {
			long received = count.sum();
			if (received >= expected) {
				return;
			}
			if (received != lastSeen) {
				lastSeen = received;
				quietSince = System.nanoTime();
			}
			else if (System.nanoTime() - quietSince > quiet.toNanos()) {
				return;
			}
			EchoScenario.sleep(Duration.ofMillis(20));
		}
	}

	// ---- reconnect storm -----------------------------------------------------------------------

	/**
	 * One client's check of the broadcast: the messages are due {@code interval} apart, so the i-th has
	 * the stamp {@code first + i × interval} exactly. An earlier stamp is a duplicate (or out of order),
	 * a later one skips messages, which are counted as lost.
	 */
	static final class Sequence {

		private final long interval;

		private final LongAdder total;

		private long first = Long.MIN_VALUE;

		private long next;

		private long lost;

		private long duplicated;

		Sequence(long interval, LongAdder total) {
			this.interval = interval;
			this.total = total;
		}

		synchronized void received(CharSequence text) {
			long stamp = Payloads.stampOf(text);
			this.total.increment();
			if (this.first == Long.MIN_VALUE) {
				this.first = stamp;
				this.next = 1;
				return;
			}
			long expected = this.first + this.next * this.interval;
			if (stamp == expected) {
				this.next++;
			}
			else if (stamp < expected) {
				this.duplicated++;
			}
			else {
				long index = (stamp - this.first) / this.interval;
				this.lost += index - this.next;
				this.next = index + 1;
			}
		}

		/** Messages received in order. */
		synchronized long next() {
			return this.next;
		}

		synchronized long lost(long sent) {
			return this.lost + Math.max(0, sent - this.next);
		}

		synchronized long duplicated() {
			return this.duplicated;
		}

	}

	private StormSample runStorm(Variant variant) {
		int port = 18086;
		long interval = (long) (1_000_000_000L / (double) this.stormRate);
		List<ResumingClient> clients = new ArrayList<>();
		List<Sequence> sequences = new ArrayList<>();
		LongAdder total = new LongAdder();
		LongAdder caughtUp = new LongAdder();
		try (ServerProcess server = ServerProcess.start(Kind.STARTER, port, "1g", args(variant));
				FreezableProxy proxy = new FreezableProxy(port);
				ResumingClient.Shared shared = new ResumingClient.Shared(4, 2, 100)) {
			System.out.println("  storm: " + variant.label + " up, pid " + server.pid() + ", load average "
					+ Results.loadAverage());
			URI uri = URI.create("ws://127.0.0.1:" + proxy.port() + "/ws");
			List<CompletableFuture<Boolean>> ready = new ArrayList<>();
			long connecting = System.nanoTime();
			for (int i = 0; i < this.stormClients; i++) {
				Sequence sequence = new Sequence(interval, total);
				sequences.add(sequence);
				ResumingClient client = new ResumingClient(shared, uri, variant.resume, (c, text, arrival) -> {
					// Due before the client's current session began, arrived in it: what the resume brought.
					if (c.sessions() >= 2 && Payloads.stampOf(text) < c.lastReadyNanos()) {
						caughtUp.increment();
					}
					sequence.received(text);
				});
				client.reconnectOnLoss(true);
				clients.add(client);
				ready.add(client.connect());
			}
			ready.forEach((f) -> f.orTimeout(120, TimeUnit.SECONDS).join());
			double connectSeconds = (System.nanoTime() - connecting) / 1e9;
			EchoScenario.sleep(Duration.ofSeconds(1));
			int count = (int) (this.stormRate * this.stormFor.toSeconds());
			CompletableFuture<Map<String, Object>> broadcast = CompletableFuture
				.supplyAsync(() -> server.broadcast(count, this.stormRate, this.stormSize));
			EchoScenario.sleep(this.cutAfter);
			Map<String, Object> before = server.stats(false);
			long failedBefore = shared.failedAttempts.sum();
			long timeoutsBefore = shared.handshakeTimeouts.sum();
			int[] generations = clients.stream().mapToInt(ResumingClient::generation).toArray();
			shared.pauseConnects();
			long cutAt = System.nanoTime();
			proxy.cutAll();
			// In trials 1-3 % of the JDK clients never reported the reset (no onError, no onClose: they sat
			// OPEN and silent, 60 s long). A real client's heartbeat would find out later; here every client
			// is told at once (its connection aborted), so that the storm is all of them reconnecting together.
			for (int i = 0; i < clients.size(); i++) {
				clients.get(i).lose(generations[i]);
			}
			// Reconnects wait until the cut is over: a link opened while cutAll runs could be cut too.
			shared.resumeConnects();
			long deadline = cutAt + Duration.ofSeconds(60).toNanos();
			while (System.nanoTime() < deadline && clients.stream().filter((c) -> c.sessions() >= 2 && c.isOpen()).count()
					< this.stormClients) {
				EchoScenario.sleep(Duration.ofMillis(20));
			}
			clients.stream().filter((c) -> !(c.sessions() >= 2 && c.isOpen())).limit(5)
				.forEach((c) -> System.out.println("    not back: " + c.describe()));
			List<Double> back = new ArrayList<>();
			int recovered = 0;
			for (ResumingClient client : clients) {
				if (client.sessions() >= 2) {
					back.add((client.lastReadyNanos() - cutAt) / 1e9);
				}
				recovered += client.recovered();
			}
			Map<String, Object> summary = broadcast.orTimeout(5, TimeUnit.MINUTES).join();
			long sent = ((Number) summary.get("sent")).longValue();
			awaitCount(total, sent * this.stormClients, Duration.ofSeconds(3), Duration.ofSeconds(30));
			Map<String, Object> after = server.stats(false);
			long lost = 0;
			long duplicated = 0;
			long withErrors = 0;
			for (Sequence sequence : sequences) {
				long l = sequence.lost(sent);
				long d = sequence.duplicated();
				lost += l;
				duplicated += d;
				if (l + d > 0) {
					withErrors++;
				}
			}
			double allBack = (back.size() == this.stormClients) ? Results.max(back) : Double.NaN;
			return new StormSample(connectSeconds, allBack, Results.median(back), back.size(), recovered,
					delta(after, before, "replayed"), caughtUp.sum(), sent, lost, duplicated, withErrors,
					shared.failedAttempts.sum() - failedBefore, shared.handshakeTimeouts.sum() - timeoutsBefore,
					delta(after, before, "resumeRefused"),
					String.valueOf(after.get("refusedReasons")));
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
		finally {
			clients.forEach(ResumingClient::abort);
		}
	}

	private static long delta(Map<String, Object> after, Map<String, Object> before, String key) {
		Function<Map<String, Object>, Long> get = (m) -> (m.get(key) instanceof Number n) ? n.longValue() : 0L;
		return get.apply(after) - get.apply(before);
	}

	// ---- report --------------------------------------------------------------------------------

	private void report(String loadBefore) {
		Results results = this.cluster
				? new Results("resume-cluster", "benchmarks/run.sh resume --cluster=true --parts=" + String.join(",", this.parts)
						+ " --reps=" + this.reps)
				: new Results("resume", "benchmarks/run.sh resume --reps=" + this.reps);
		results.line(fmt("%d runs per server (a fresh server process per run, order rotated: plain Spring, resilient-ws "
				+ "with resume off, resilient-ws with `resilient-ws.server.resume.enabled=true` and clients that send "
				+ "`?rws-resume=1`%s). Every client is the benchmark's `ResumingClient` on the JDK WebSocket (the protocol "
				+ "off for the first two). Load average before: %s, after: %s.", this.reps,
				this.cluster ? "; both resilient-ws servers in cluster mode on a real redis-server on the same machine, "
						+ "so with resume on every message is journaled in Redis" : "", loadBefore, Results.loadAverage()))
			.line("")
			.line("Values: median over the runs, (min–max) in brackets. Ratios are median / median of the same run set.")
			.line("");
		if (!this.echo.isEmpty()) {
			results.line(fmt("### Echo: %d messages in flight over %d connections, %d s warm-up + %d s measured",
					this.inflight, this.connections, this.warmup.toSeconds(), this.measure.toSeconds())).line("");
			List<List<String>> rows = new ArrayList<>();
			for (int s : this.sizes) {
				double plainRate = medianEcho(PLAIN, s, EchoSample::messagesPerSecond);
				double offRate = medianEcho(this.off, s, EchoSample::messagesPerSecond);
				double plainP99 = medianEcho(PLAIN, s, EchoSample::p99);
				this.echo.forEach((variant, bySize) -> {
					List<EchoSample> list = bySize.getOrDefault(s, List.of());
					if (list.isEmpty()) {
						return;
					}
					List<Double> rate = list.stream().map(EchoSample::messagesPerSecond).toList();
					List<Double> p99 = list.stream().map(EchoSample::p99).toList();
					rows.add(List.of(fmt("%d B", s), variant.label, Results.spread(rate, "%.0f"),
							fmt("%.3f", Results.median(rate) / plainRate), fmt("%.3f", Results.median(rate) / offRate),
							Results.spread(list.stream().map(EchoSample::p50).toList(), "%.3f"),
							Results.spread(p99, "%.3f"), fmt("%.2f", Results.median(p99) / plainP99),
							Results.spread(list.stream().map(EchoSample::cpuMicrosPerMessage).toList(), "%.1f"),
							redisColumn(list.stream().map((x) -> x.redis().cpuMicrosPerMessage()).toList(), "%.1f"),
							redisColumn(list.stream().map((x) -> x.redis().scriptCallsPerMessage()).toList(), "%.3f")));
				});
			}
			results.table(List.of("size", "server", "messages/s", "vs plain", "vs resume off", "p50 ms", "p99 ms",
					"p99 vs plain", "server CPU µs/message", "Redis CPU µs/message", "Redis script calls/message"), rows);
		}
		if (!this.fanout.isEmpty()) {
			results.line(fmt("### Fan-out: paced broadcast of %d B to %,d sessions, %d s per rate, every client reading",
					this.size, this.sessions, this.step.toSeconds())).line("");
			results.line("Latency = arrival − the time the broadcast was due. Acknowledgements: `A` messages the "
					+ "clients sent (resume on only; at these rates mostly the 100 ms timer).").line("");
			List<List<String>> rows = new ArrayList<>();
			for (int rate : this.rates) {
				double plainDelivered = medianFanout(PLAIN, rate, FanoutSample::delivered);
				double plainP99 = medianFanout(PLAIN, rate, FanoutSample::p99);
				this.fanout.forEach((variant, byRate) -> {
					List<FanoutSample> list = byRate.getOrDefault(rate, List.of());
					if (list.isEmpty()) {
						return;
					}
					List<Double> delivered = list.stream().map(FanoutSample::delivered).toList();
					List<Double> p99 = list.stream().map(FanoutSample::p99).toList();
					rows.add(List.of(fmt("%,d", rate * this.sessions), variant.label, Results.spread(delivered, "%.0f"),
							fmt("%.2f", Results.median(delivered) / plainDelivered),
							FanoutScenario.spreadMs(list.stream().map(FanoutSample::p50).toList()),
							FanoutScenario.spreadMs(p99), fmt("%.2f", Results.median(p99) / plainP99),
							Results.spread(list.stream().map((x) -> (double) x.missing).toList(), "%.0f"),
							Results.spread(list.stream().map(FanoutSample::cpuMicrosPerDelivery).toList(), "%.1f"),
							Results.spread(list.stream().map(FanoutSample::acksPerThousand).toList(), "%.0f"),
							redisColumn(list.stream().map((x) -> x.redis().cpuMicrosPerMessage()).toList(), "%.1f"),
							redisColumn(list.stream().map((x) -> x.redis().scriptCallsPerMessage()).toList(), "%.3f")));
				});
			}
			results.table(List.of("offered deliveries/s", "server", "delivered/s", "vs plain", "p50 ms", "p99 ms",
					"p99 vs plain", "not delivered", "server CPU µs/delivery", "`A` per 1,000 deliveries",
					"Redis CPU µs/delivery", "Redis script calls/delivery"), rows);
		}
		if (!this.storm.isEmpty()) {
			results.line(fmt("### Reconnect storm: %,d clients through a TCP proxy, broadcast of %d B at %d/s for %d s, "
					+ "every link reset (RST) %d s into it", this.stormClients, this.stormSize, this.stormRate,
					this.stormFor.toSeconds(), this.cutAfter.toSeconds())).line("");
			results.line("The proxy resets both ends of every link, then every client is told of the loss at once (its "
					+ "JDK connection aborted: in trials the JDK client never reported the reset on 1–3 % of the links) and "
					+ "reconnects at once, after the cut is over (at most 100 handshakes in flight over all clients; a "
					+ "resuming handshake counts until its `S`; a handshake is given up after 10 s, a connection without "
					+ "`H` and `S` after 5 s, as the reference clients do). Back = its next session established (`S` received, or the "
					+ "plain open); times from the cut. Replayed = the server's count (`SessionEvent.Resumed.replayed`: "
					+ "messages written to the old connection that the client's `R` says it never got). Caught up = "
					+ "messages the clients received in their new session that were due before it began (the replayed "
					+ "ones and those the detached session held); per second over the time until all were back. "
					+ "Lost/duplicated = each client's check of the broadcast sequence (stamps exactly one interval "
					+ "apart) and of the count the server sent. First connect = the 2,000 initial connections through "
					+ "the same proxy, 100 handshakes in flight, for scale.").line("");
			List<List<String>> rows = new ArrayList<>();
			this.storm.forEach((variant, list) -> rows.add(List.of(variant.label,
					Results.spread(list.stream().map(StormSample::connectSeconds).toList(), "%.2f"),
					Results.spread(list.stream().map((x) -> (double) x.back).toList(), "%.0f"),
					Results.spread(list.stream().map(StormSample::allBackSeconds).toList(), "%.2f"),
					Results.spread(list.stream().map(StormSample::p50BackSeconds).toList(), "%.2f"),
					Results.spread(list.stream().map((x) -> (double) x.recovered).toList(), "%.0f"),
					Results.spread(list.stream().map((x) -> (double) x.replayed).toList(), "%.0f"),
					Results.spread(list.stream().map((x) -> (double) x.caughtUp).toList(), "%.0f"),
					Results.spread(list.stream().map((x) -> x.caughtUp / x.allBackSeconds).toList(), "%.0f"),
					Results.spread(list.stream().map((x) -> (double) x.sent * this.stormClients).toList(), "%.0f"),
					Results.spread(list.stream().map((x) -> (double) x.lost).toList(), "%.0f"),
					Results.spread(list.stream().map((x) -> (double) x.duplicated).toList(), "%.0f"),
					Results.spread(list.stream().map((x) -> (double) x.clientsWithErrors).toList(), "%.0f"),
					Results.spread(list.stream().map((x) -> (double) x.failedAttempts).toList(), "%.0f"),
					Results.spread(list.stream().map((x) -> (double) x.helloTimeouts).toList(), "%.0f"),
					Results.spread(list.stream().map((x) -> (double) x.refused).toList(), "%.0f"))));
			results.table(List.of("server", "first connect of all, s", "clients back", "all back after s",
					"p50 back after s", "recovered=1", "replayed (server)", "caught up (clients)", "caught up/s",
					"deliveries due", "lost", "duplicated", "clients with a gap or duplicate", "failed connect attempts",
					"no `H`/`S` within 5 s", "resumes refused"), rows);
		}
		if (this.echo.containsKey(this.on)) {
			results.line("### Envelope, measured on the client's side of the wire (resume on, echo)").line("");
			results.line("Data messages: characters on the wire minus the application's (escape NULs). `A`: messages "
					+ "per 1,000 data messages and their payload size; amortised = (payload + WebSocket header: 2 B "
					+ "server → client, 6 B client → server, masked) × `A` per data message. Headers are computed, "
					+ "payloads counted.").line("");
			List<List<String>> rows = new ArrayList<>();
			this.echo.get(this.on).forEach((s, list) -> {
				double toClient = Results.median(list.stream().map(EchoSample::acksToClientPerThousand).toList());
				double fromClient = Results.median(list.stream().map(EchoSample::acksFromClientPerThousand).toList());
				double charsTo = Results.median(list.stream().map(EchoSample::ackCharsToClient).toList());
				double charsFrom = Results.median(list.stream().map(EchoSample::ackCharsFromClient).toList());
				rows.add(List.of(fmt("%d B", s), Results.spread(list.stream().map(EchoSample::escapeChars).toList(), "%.0f"),
						fmt("%.2f", toClient), fmt("%.1f", charsTo), fmt("%.3f", (charsTo + 2) * toClient / 1000),
						fmt("%.2f", fromClient), fmt("%.1f", charsFrom), fmt("%.3f", (charsFrom + 6) * fromClient / 1000)));
			});
			results.table(List.of("echo size", "escape bytes in the window", "`A` to client per 1,000", "B each",
					"amortised B/message", "`A` from client per 1,000", "B each", "amortised B/message"), rows);
		}
		results.write();
	}

	private double medianEcho(Variant variant, int s, Function<EchoSample, Double> value) {
		return Results.median(this.echo.getOrDefault(variant, Map.of()).getOrDefault(s, List.of()).stream().map(value).toList());
	}

	private double medianFanout(Variant variant, int rate, Function<FanoutSample, Double> value) {
		return Results.median(
				this.fanout.getOrDefault(variant, Map.of()).getOrDefault(rate, List.of()).stream().map(value).toList());
	}

}
