package io.resilientws.benchmarks.scenario;

import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import io.resilientws.benchmarks.driver.Env;
import io.resilientws.benchmarks.driver.JdkClients;
import io.resilientws.benchmarks.driver.Latency;
import io.resilientws.benchmarks.driver.Payloads;
import io.resilientws.benchmarks.driver.ServerProcess;
import io.resilientws.benchmarks.driver.StalledClient;
import io.resilientws.benchmarks.driver.ServerProcess.Kind;
import io.resilientws.benchmarks.report.Plot;
import io.resilientws.benchmarks.report.Results;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import static io.resilientws.benchmarks.report.Results.fmt;

/**
 * Scenario 2 (and the fan-out half of 6): the server broadcasts 1 KiB messages to 1,000 sessions at a
 * paced rate; each message carries the time it was due, and the driver's 1,000 JDK clients record
 * the delivery latency. A ladder of rates with every client reading, then one rate with 1% of the
 * clients not reading at all.
 * <p>
 * Servers: plain Spring (a loop over {@code ConcurrentWebSocketSessionDecorator(10 s, 512 KiB)}),
 * resilient-ws ({@code registry.broadcast}, default TERMINATE at 512 KiB), resilient-ws with
 * DROP_OLDEST (only for the stalled run: its stalled sessions stay, so their buffers show in the
 * heap), Node ws (terminates a client past 512 KiB buffered).
 */
public final class FanoutScenario {

	record Variant(Kind kind, String label, List<String> args) {
	}

	record Sample(double offered, double delivered, double p50, double p99, double max, long missing) {
	}

	static final Variant PLAIN = new Variant(Kind.PLAIN, "plain Spring (decorator loop)", List.of());

	static final Variant STARTER = new Variant(Kind.STARTER, "resilient-ws (TERMINATE)", List.of());

	static final Variant STARTER_DROP = new Variant(Kind.STARTER, "resilient-ws (DROP_OLDEST)",
			List.of("--resilient-ws.server.send.overflow=DROP_OLDEST"));

	static final Variant NODE = new Variant(Kind.NODE, "Node ws", List.of());

	private final int reps;

	private final int sessions;

	private final int size;

	private final List<Integer> rates;

	private final Duration step;

	private final int stalledRate;

	private final int stalledSize;

	private final List<String> variantNames;

	private final Duration stalledFor;

	private final double stalledFraction;

	private final Map<Variant, Map<Integer, List<Sample>>> ladder = new LinkedHashMap<>();

	private final Map<Variant, List<Sample>> allFast = new LinkedHashMap<>();

	private final Map<Variant, List<Sample>> stalled = new LinkedHashMap<>();

	private final Map<Variant, List<Double>> heapDelta = new LinkedHashMap<>();

	private final Map<Variant, List<Double>> slowLeft = new LinkedHashMap<>();

	public FanoutScenario(Map<String, String> options) {
		this.reps = Integer.parseInt(options.getOrDefault("reps", "3"));
		this.sessions = Integer.parseInt(options.getOrDefault("sessions", "1000"));
		this.size = Integer.parseInt(options.getOrDefault("size", "1024"));
		this.rates = EchoScenario.ints(options.getOrDefault("rates", "5,10,20,40"));
		this.step = Duration.ofSeconds(Long.parseLong(options.getOrDefault("step", "8")));
		this.stalledRate = Integer.parseInt(options.getOrDefault("stalled-rate", "10"));
		this.stalledSize = Integer.parseInt(options.getOrDefault("stalled-size", "4096"));
		this.variantNames = List.of(options.getOrDefault("variants", "plain,starter,node,drop").split(","));
		this.stalledFor = Duration.ofSeconds(Long.parseLong(options.getOrDefault("stalled-for", "30")));
		this.stalledFraction = Double.parseDouble(options.getOrDefault("stalled-fraction", "0.01"));
	}

	public void run() {
		String loadBefore = Results.loadAverage();
		Map<String, Variant> all = Map.of("plain", PLAIN, "starter", STARTER, "node", NODE, "drop", STARTER_DROP);
		List<Variant> variants = this.variantNames.stream().map(all::get).toList();
		for (int rep = 0; rep < this.reps; rep++) {
			for (int v = 0; v < variants.size(); v++) {
				Variant variant = variants.get((v + rep) % variants.size());
				runVariant(variant, rep);
			}
		}
		report(loadBefore);
	}

	private void runVariant(Variant variant, int rep) {
		try (ServerProcess server = ServerProcess.start(variant.kind, 18082, "1g", variant.args);
				JdkClients clients = new JdkClients(4, 2)) {
			System.out.println("rep " + (rep + 1) + ": " + variant.label + " up, pid " + server.pid());
			Group fast = new Group();
			Group swapped = new Group();
			int every = (int) Math.round(1 / this.stalledFraction);
			int[] opened = { 0 };
			List<WebSocket> sockets = clients.openMany(this.sessions, server.wsUri(),
					() -> new Listener((opened[0]++ % every == 0) ? swapped : fast), 50);
			List<WebSocket> toSwap = new ArrayList<>();
			for (int i = 0; i < sockets.size(); i += every) {
				toSwap.add(sockets.get(i));
			}
			// Warm-up: JIT on both sides.
			broadcast(server, 10, this.size, Duration.ofSeconds(3), fast, swapped);
			if (variant != STARTER_DROP) {
				for (int rate : this.rates) {
					Sample sample = broadcast(server, rate, this.size, this.step, fast, swapped);
					this.ladder.computeIfAbsent(variant, (k) -> new LinkedHashMap<>())
						.computeIfAbsent(rate, (k) -> new ArrayList<>())
						.add(sample);
					print(variant, "all reading", sample);
				}
			}
			fast.timeline = new Timeline(System.nanoTime());
			Sample base = broadcast(server, this.stalledRate, this.stalledSize, this.stalledFor, fast, null);
			System.out.println("    fast clients' p99 ms by the second the broadcast was due, all reading: "
					+ fast.timeline.describe());
			fast.timeline = null;
			this.allFast.computeIfAbsent(variant, (k) -> new ArrayList<>()).add(base);
			print(variant, "all reading", base);
			// The same 990 clients go on reading; the other 10 are replaced by clients that never read.
			toSwap.forEach(WebSocket::abort);
			awaitSessions(server, this.sessions - toSwap.size());
			List<StalledClient> stalledClients = new ArrayList<>();
			for (int i = 0; i < toSwap.size(); i++) {
				stalledClients.add(StalledClient.connect(server.wsUri()));
			}
			awaitSessions(server, this.sessions);
			double heapBefore = ((Number) server.stats(true).get("heapUsed")).doubleValue();
			fast.timeline = new Timeline(System.nanoTime());
			Sample withStalled = broadcast(server, this.stalledRate, this.stalledSize, this.stalledFor, fast, null);
			System.out.println("    fast clients' p99 ms by the second the broadcast was due, 1% stalled: "
					+ fast.timeline.describe());
			fast.timeline = null;
			this.stalled.computeIfAbsent(variant, (k) -> new ArrayList<>()).add(withStalled);
			print(variant, toSwap.size() + " not reading", withStalled);
			Map<String, Object> after = server.stats(true);
			double heapAfter = ((Number) after.get("heapUsed")).doubleValue();
			long open = ((Number) after.get("sessions")).longValue();
			this.heapDelta.computeIfAbsent(variant, (k) -> new ArrayList<>()).add((heapAfter - heapBefore) / 1024 / 1024);
			this.slowLeft.computeIfAbsent(variant, (k) -> new ArrayList<>())
				.add((double) (toSwap.size() - (this.sessions - open)));
			System.out.println(fmt("    heap after GC: %.1f MiB -> %.1f MiB; %d of %d sessions open", heapBefore / 1048576,
					heapAfter / 1048576, open, this.sessions));
			stalledClients.forEach(StalledClient::close);
			JdkClients.abortAll(sockets);
		}
	}

	private static void awaitSessions(ServerProcess server, long expected) {
		long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
		while (((Number) server.stats(false).get("sessions")).longValue() != expected) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("server has " + server.stats(false).get("sessions") + " sessions, not "
						+ expected);
			}
			EchoScenario.sleep(Duration.ofMillis(50));
		}
	}

	/** A percentile, or "undelivered" when it falls among the messages that never arrived. */
	static String ms(double millis) {
		return (millis >= 599_000) ? "undelivered" : fmt("%.2f", millis);
	}

	static String spreadMs(List<Double> values) {
		if (values.size() == 1) {
			return ms(values.get(0));
		}
		return ms(Results.median(values)) + " (" + ms(Results.min(values)) + "–" + ms(Results.max(values)) + ")";
	}

	private static void print(Variant variant, String what, Sample s) {
		System.out.println(fmt("  %-28s %-15s offered %8.0f/s delivered %8.0f/s p50 %s ms p99 %s ms max %s ms missing %d",
				variant.label, what, s.offered, s.delivered, ms(s.p50), ms(s.p99), ms(s.max), s.missing));
	}

	/**
	 * Has the server broadcast at {@code rate} for {@code duration}, then waits for the fast clients to
	 * receive everything (or for 2 s of silence, at most 30 s). {@code slow} is counted as fast when
	 * not null (all reading).
	 */
	private Sample broadcast(ServerProcess server, int rate, int size, Duration duration, Group fast, Group slow) {
		fast.reset();
		if (slow != null) {
			slow.reset();
		}
		int count = (int) (rate * duration.toMillis() / 1000);
		long started = System.nanoTime();
		server.broadcast(count, rate, size);
		long expectedFast = (long) count * fast.members.get();
		long expected = expectedFast + ((slow != null) ? (long) count * slow.members.get() : 0);
		long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
		long lastSeen = -1;
		long quietSince = System.nanoTime();
		while (System.nanoTime() < deadline) {
			long received = fast.count.sum() + ((slow != null) ? slow.count.sum() : 0);
			if (received >= expected) {
				break;
			}
			if (received != lastSeen) {
				lastSeen = received;
				quietSince = System.nanoTime();
			}
			else if (System.nanoTime() - quietSince > Duration.ofSeconds(2).toNanos()) {
				break;
			}
			EchoScenario.sleep(Duration.ofMillis(20));
		}
		Latency latency = new Latency();
		latency.histogram().add(fast.latency.histogram());
		long undelivered = expectedFast - fast.count.sum();
		long received = fast.count.sum();
		if (slow != null) {
			latency.histogram().add(slow.latency.histogram());
			received += slow.count.sum();
		}
		if (slow != null) {
			undelivered += (long) count * slow.members.get() - slow.count.sum();
		}
		// Messages never delivered (a loop that gave up, or a session cut) count as the slowest of all.
		for (long i = 0; i < undelivered; i++) {
			latency.recordNanos(Long.MAX_VALUE);
		}
		long firstDue = Math.min(fast.firstStamp.get(), (slow != null) ? slow.firstStamp.get() : Long.MAX_VALUE);
		long lastArrival = Math.max(fast.lastArrival.get(), (slow != null) ? slow.lastArrival.get() : 0);
		double seconds = Math.max(1e-9, (lastArrival - Math.max(firstDue, started)) / 1e9);
		return new Sample((double) expected / duration.toSeconds(), received / seconds, latency.percentileMillis(50),
				latency.percentileMillis(99), latency.maxMillis(), expected - received);
	}

	/** Clients counted together. */
	static final class Group {

		final Latency latency = new Latency();

		final LongAdder count = new LongAdder();

		final AtomicLong members = new AtomicLong();

		final AtomicLong firstStamp = new AtomicLong(Long.MAX_VALUE);

		final AtomicLong lastArrival = new AtomicLong();

		/** When set, latency is also recorded by the second the message was due. */
		volatile Timeline timeline;

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
			Timeline timeline = this.timeline;
			if (timeline != null) {
				timeline.record(stamp, arrival - stamp);
			}
		}

	}

	/**
	 * p99 latency per second of the run (by the time each message was due): shows whether a high p99
	 * comes from one moment (a termination, a GC) or from the whole run.
	 */
	static final class Timeline {

		private final long origin;

		private final Histogram[] seconds = new Histogram[120];

		Timeline(long origin) {
			this.origin = origin;
			for (int i = 0; i < this.seconds.length; i++) {
				this.seconds[i] = new ConcurrentHistogram(1, 60_000_000L, 2);
			}
		}

		void record(long dueNanos, long latencyNanos) {
			int second = (int) ((dueNanos - this.origin) / 1_000_000_000L);
			if (second >= 0 && second < this.seconds.length) {
				this.seconds[second].recordValue(Math.max(1, Math.min(60_000_000L, latencyNanos / 1000)));
			}
		}

		/** "second:p99" for every second with messages. */
		String describe() {
			StringBuilder text = new StringBuilder();
			for (int i = 0; i < this.seconds.length; i++) {
				if (this.seconds[i].getTotalCount() > 0) {
					text.append(fmt(" %d:%.0f", i, this.seconds[i].getValueAtPercentile(99) / 1000.0));
				}
			}
			return text.toString().trim();
		}

	}

	static final class Listener extends JdkClients.TextListener {

		final Group group;

		Listener(Group group) {
			this.group = group;
			group.members.incrementAndGet();
		}

		@Override
		protected void received(WebSocket webSocket, CharSequence text, long arrival) {
			this.group.received(text, arrival);
		}

	}

	private void report(String loadBefore) {
		Results results = new Results("fanout", "benchmarks/run.sh fanout");
		results.line(fmt("%d sessions, %d B text messages, %d runs per server (order rotated). Ladder: %s broadcasts/s "
				+ "for %d s each, every client reading. Stalled run: %d broadcasts/s of %d B for %d s with %.0f%% of the "
				+ "clients replaced by clients that never read (handshake, then no read, 4 KiB receive buffer); "
				+ "fast p99 is over the same 990 reading clients in both runs. Latency = arrival − "
				+ "the time the broadcast was due (so a loop that falls behind counts). Load average before: %s, after: %s.",
				this.sessions, this.size, this.reps, this.rates, this.step.toSeconds(), this.stalledRate,
				this.stalledSize, this.stalledFor.toSeconds(), this.stalledFraction * 100, loadBefore, Results.loadAverage()))
			.line("");
		results.line("### Every client reading").line("");
		List<List<String>> rows = new ArrayList<>();
		for (int rate : this.rates) {
			List<Sample> base = this.ladder.getOrDefault(PLAIN, Map.of()).getOrDefault(rate, List.of());
			double baseDelivered = Results.median(base.stream().map(Sample::delivered).toList());
			double baseP99 = Results.median(base.stream().map(Sample::p99).toList());
			this.ladder.forEach((variant, byRate) -> {
				List<Sample> list = byRate.getOrDefault(rate, List.of());
				if (list.isEmpty()) {
					return;
				}
				List<Double> delivered = list.stream().map(Sample::delivered).toList();
				List<Double> p99 = list.stream().map(Sample::p99).toList();
				rows.add(List.of(fmt("%,d", rate * this.sessions), variant.label, Results.spread(delivered, "%.0f"),
						fmt("%.2f", Results.median(delivered) / baseDelivered),
						spreadMs(list.stream().map(Sample::p50).toList()), spreadMs(p99),
						fmt("%.2f", Results.median(p99) / baseP99),
						Results.spread(list.stream().map((s) -> (double) s.missing).toList(), "%.0f")));
			});
		}
		results.table(List.of("offered deliveries/s", "server", "delivered/s", "ratio", "p50 ms", "p99 ms", "ratio",
				"not delivered"), rows);
		results.line(fmt("### %.0f%% of the clients not reading (%d broadcasts/s of %d B)", this.stalledFraction * 100,
				this.stalledRate, this.stalledSize)).line("");
		List<List<String>> stalledRows = new ArrayList<>();
		this.stalled.forEach((variant, list) -> {
			List<Double> fastP99 = this.allFast.get(variant).stream().map(Sample::p99).toList();
			List<Double> slowP99 = list.stream().map(Sample::p99).toList();
			List<Double> ratios = new ArrayList<>();
			for (int i = 0; i < list.size(); i++) {
				ratios.add(slowP99.get(i) / fastP99.get(i));
			}
			stalledRows.add(List.of(variant.label, spreadMs(fastP99), spreadMs(slowP99),
					Results.spread(ratios, "%.2f"), Results.spread(list.stream().map(Sample::delivered).toList(), "%.0f"),
					Results.spread(list.stream().map((s) -> (double) s.missing).toList(), "%.0f"),
					Results.spread(this.heapDelta.get(variant), "%.2f"), Results.spread(this.slowLeft.get(variant), "%.0f")));
		});
		results.table(List.of("server", "fast p99 ms, all reading", "fast p99 ms, 1% stalled", "ratio (target ≤ 1.5)",
				"fast delivered/s", "fast not delivered", "heap Δ after GC, MiB (bound 10 × 0.5 = 5)",
				"stalled sessions still open"), stalledRows);
		results.write();

		Plot plot = new Plot(fmt("Broadcast to %,d sessions: p99 delivery latency (median of %d runs)", this.sessions,
				this.reps), "offered deliveries per second", "p99 latency (ms)").logY();
		Plot rate = new Plot(fmt("Broadcast to %,d sessions: delivered vs offered (median of %d runs)", this.sessions,
				this.reps), "offered deliveries per second", "delivered per second").yFromZero();
		this.ladder.forEach((variant, byRate) -> {
			List<double[]> p99 = new ArrayList<>();
			List<double[]> delivered = new ArrayList<>();
			byRate.forEach((r, list) -> {
				p99.add(new double[] { r * this.sessions, Results.median(list.stream().map(Sample::p99).toList()) });
				delivered.add(new double[] { r * this.sessions,
						Results.median(list.stream().map(Sample::delivered).toList()) });
			});
			plot.series(variant.label, p99);
			rate.series(variant.label, delivered);
		});
		plot.write(Env.docsDir().resolve("fanout-p99.png"));
		rate.write(Env.docsDir().resolve("fanout-delivered.png"));
	}

}
