package io.resilientws.benchmarks.scenario;

import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.resilientws.benchmarks.driver.JdkClients;
import io.resilientws.benchmarks.driver.ServerProcess;
import io.resilientws.benchmarks.driver.ServerProcess.Kind;
import io.resilientws.benchmarks.driver.ThreadCpu;
import io.resilientws.benchmarks.report.Results;

import static io.resilientws.benchmarks.report.Results.fmt;

/**
 * Scenario 3: 10,000 idle sessions held open. Server CPU (its own process CPU time over a quiet
 * window) and heap per session (heap after full GCs with the sessions, minus before them), for plain
 * Spring, resilient-ws with the heartbeat off, and resilient-ws pinging every session every 5 s. The
 * JDK clients answer pings by themselves.
 */
public final class IdleScenario {

	record Variant(String label, Kind kind, List<String> args) {
	}

	record Sample(double cpuPercent, double heapPerSession, long open, int threads) {
	}

	static final Variant PLAIN = new Variant("plain Spring", Kind.PLAIN, List.of());

	static final Variant NO_HEARTBEAT = new Variant("resilient-ws, heartbeat off", Kind.STARTER,
			List.of("--resilient-ws.server.heartbeat.enabled=false"));

	static final Variant HEARTBEAT = new Variant("resilient-ws, heartbeat every 5 s", Kind.STARTER,
			List.of("--resilient-ws.server.heartbeat.interval=5s"));

	/** The floor: plain Spring with one loop that pings every session every 5 s, no timeouts kept. */
	static final Variant PLAIN_PING = new Variant("plain Spring, ping loop every 5 s", Kind.PLAIN,
			List.of("--bench.ping-loop-interval=5s"));

	private final int reps;

	private final int sessions;

	private final Duration window;

	/** Time from the last session opening to the window: heartbeats running, JIT compiled. */
	private final Duration settle;

	private final String variantNames;

	private final Map<Variant, List<Sample>> samples = new LinkedHashMap<>();

	public IdleScenario(Map<String, String> options) {
		this.reps = Integer.parseInt(options.getOrDefault("reps", "3"));
		this.sessions = Integer.parseInt(options.getOrDefault("sessions", "10000"));
		this.window = Duration.ofSeconds(Long.parseLong(options.getOrDefault("window", "30")));
		this.settle = Duration.ofSeconds(Long.parseLong(options.getOrDefault("settle", "40")));
		this.variantNames = options.getOrDefault("variants", "plain,off,on");
	}

	public void run() {
		String loadBefore = Results.loadAverage();
		Map<String, Variant> all = Map.of("plain", PLAIN, "off", NO_HEARTBEAT, "on", HEARTBEAT, "plainping",
				PLAIN_PING);
		List<Variant> variants = List.of(this.variantNames.split(",")).stream().map(all::get).toList();
		for (int rep = 0; rep < this.reps; rep++) {
			for (int v = 0; v < variants.size(); v++) {
				Variant variant = variants.get((v + rep) % variants.size());
				Sample sample = runOne(variant);
				this.samples.computeIfAbsent(variant, (k) -> new ArrayList<>()).add(sample);
				System.out.println(fmt("rep %d %-36s CPU %.2f%% of a core, heap %.0f B/session, %d open, %d threads",
						rep + 1, variant.label, sample.cpuPercent, sample.heapPerSession, sample.open, sample.threads));
			}
		}
		report(loadBefore);
	}

	private Sample runOne(Variant variant) {
		try (ServerProcess server = ServerProcess.start(variant.kind, 18083, "2g", variant.args);
				JdkClients clients = new JdkClients(8, 2)) {
			EchoScenario.sleep(Duration.ofSeconds(3));
			double heapEmpty = number(server.stats(true), "heapUsed");
			List<WebSocket> sockets = clients.openMany(this.sessions, server.wsUri(), () -> new JdkClients.TextListener() {
				@Override
				protected void received(WebSocket webSocket, CharSequence text, long arrivalNanos) {
				}
			}, 100);
			EchoScenario.sleep(Duration.ofSeconds(10));
			double heapFull = number(server.stats(true), "heapUsed");
			// Until the heartbeat's paths are compiled: the C2 compiler took 1.4 % of a core in a window 12 s on.
			EchoScenario.sleep(this.settle.minusSeconds(10));
			Map<String, Object> before = server.stats(false);
			ThreadCpu threadsBefore = ThreadCpu.of(server.pid());
			long start = System.nanoTime();
			EchoScenario.sleep(this.window);
			Map<String, Object> after = server.stats(false);
			// Per-thread profile of the window: which threads the CPU went to (ticks of 10 ms).
			System.out.println("    " + variant.label + " threads, CPU ticks in " + this.window.toSeconds() + " s: "
					+ ThreadCpu.of(server.pid()).since(threadsBefore));
			long elapsed = System.nanoTime() - start;
			double cpu = (number(after, "cpuNanos") - number(before, "cpuNanos")) / elapsed * 100;
			Sample sample = new Sample(cpu, (heapFull - heapEmpty) / this.sessions, (long) number(after, "sessions"),
					(int) number(after, "threads"));
			JdkClients.abortAll(sockets);
			return sample;
		}
	}

	static double number(Map<String, Object> stats, String key) {
		return ((Number) stats.get(key)).doubleValue();
	}

	private void report(String loadBefore) {
		Results results = new Results("idle", "benchmarks/run.sh idle");
		results.line(fmt("%,d idle sessions per server JVM (-Xmx2g, G1), %d runs per variant (order rotated). CPU: the "
				+ "server process's CPU time over %d s with the sessions idle (from %d s after the last opened), as %% of one core. Heap: heap used after "
				+ "full GCs with the sessions open minus before they opened, per session. Load average before: %s, "
				+ "after: %s.", this.sessions, this.reps, this.window.toSeconds(), this.settle.toSeconds(), loadBefore, Results.loadAverage()))
			.line("");
		List<List<String>> rows = new ArrayList<>();
		this.samples.forEach((variant, list) -> rows.add(List.of(variant.label,
				Results.spread(list.stream().map(Sample::cpuPercent).toList(), "%.2f"),
				Results.spread(list.stream().map(Sample::heapPerSession).toList(), "%.0f"),
				Results.spread(list.stream().map((s) -> (double) s.open).toList(), "%.0f"),
				Results.spread(list.stream().map((s) -> (double) s.threads).toList(), "%.0f"))));
		results.table(List.of("server", "CPU, % of one core", "heap per session, bytes", "sessions open at the end",
				"server threads"), rows);
		if (!this.samples.containsKey(PLAIN) || !this.samples.containsKey(NO_HEARTBEAT)
				|| !this.samples.containsKey(HEARTBEAT)) {
			results.write();
			return;
		}
		List<Double> cpuOn = this.samples.get(HEARTBEAT).stream().map(Sample::cpuPercent).toList();
		List<Double> cpuOff = this.samples.get(NO_HEARTBEAT).stream().map(Sample::cpuPercent).toList();
		List<Double> heapOn = this.samples.get(HEARTBEAT).stream().map(Sample::heapPerSession).toList();
		List<Double> heapOff = this.samples.get(NO_HEARTBEAT).stream().map(Sample::heapPerSession).toList();
		List<Double> heapPlain = this.samples.get(PLAIN).stream().map(Sample::heapPerSession).toList();
		results.line(fmt("Heartbeat cost (medians, heartbeat every 5 s minus heartbeat off): CPU %+.2f%% of one core "
				+ "(target < 2%%), heap %+.0f B per session (target < 1,024 B). Registry cost (heartbeat off minus plain "
				+ "Spring): heap %+.0f B per session.", Results.median(cpuOn) - Results.median(cpuOff),
				Results.median(heapOn) - Results.median(heapOff), Results.median(heapOff) - Results.median(heapPlain)));
		results.write();
	}

}
