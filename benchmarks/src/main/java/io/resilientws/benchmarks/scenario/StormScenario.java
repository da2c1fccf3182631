package io.resilientws.benchmarks.scenario;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import io.resilientws.benchmarks.driver.Env;
import io.resilientws.benchmarks.driver.ManagedClients;
import io.resilientws.benchmarks.driver.ServerProcess;
import io.resilientws.benchmarks.driver.ServerProcess.Kind;
import io.resilientws.benchmarks.report.Plot;
import io.resilientws.benchmarks.report.Results;
import io.resilientws.client.ConnectionEvent;
import io.resilientws.client.ConnectionHandler;
import io.resilientws.client.ConnectionState;

import static io.resilientws.benchmarks.report.Results.fmt;

/**
 * Scenario 4: 2,000 managed client connections to a resilient-ws server that crashes (SIGKILL) and is
 * started again at once on the same port. From the connections' own events: time until all are open
 * again, peak handshakes per second, failed attempts — with the default reconnect settings (1 s
 * initial delay, ×2, 500 ms jitter) and with jitter 0.
 */
public final class StormScenario {

	record Sample(double allOpenSeconds, double serverReadySeconds, int peakPerSecond, int failedWhileDown,
			int failedWhileUp, Map<String, Integer> failureReasons, List<double[]> timeline) {
	}

	record Attempt(long micros, boolean opened, String reason) {
	}

	private final int reps;

	private final int connections;

	private final Map<String, List<Sample>> samples = new LinkedHashMap<>();

	public StormScenario(Map<String, String> options) {
		this.reps = Integer.parseInt(options.getOrDefault("reps", "3"));
		this.connections = Integer.parseInt(options.getOrDefault("connections", "2000"));
	}

	public void run() {
		String loadBefore = Results.loadAverage();
		Map<String, Duration> variants = new LinkedHashMap<>();
		variants.put("jitter 500 ms (default)", Duration.ofMillis(500));
		variants.put("jitter off", Duration.ZERO);
		for (int rep = 0; rep < this.reps; rep++) {
			for (Map.Entry<String, Duration> variant : variants.entrySet()) {
				Sample sample = runOne(variant.getValue());
				this.samples.computeIfAbsent(variant.getKey(), (k) -> new ArrayList<>()).add(sample);
				System.out.println(fmt("rep %d %-24s all open after %.2f s (server ready after %.2f s), peak %d/s, "
						+ "failed attempts: %d while down, %d while up %s", rep + 1, variant.getKey(), sample.allOpenSeconds,
						sample.serverReadySeconds, sample.peakPerSecond, sample.failedWhileDown, sample.failedWhileUp,
						sample.failureReasons));
			}
		}
		report(loadBefore);
	}

	private Sample runOne(Duration jitter) {
		int port = 18084;
		ServerProcess server = ServerProcess.start(Kind.STARTER, port, "1g", List.of());
		try (ManagedClients clients = new ManagedClients()) {
			ConcurrentLinkedQueue<ConnectionEvent> events = new ConcurrentLinkedQueue<>();
			clients.onEvent(events::add);
			var connections = clients.open(this.connections, server.wsUri(), new ConnectionHandler() {
			}, (settings) -> settings.reconnectJitter(jitter), 100, Duration.ofSeconds(120));
			EchoScenario.sleep(Duration.ofSeconds(2));
			events.clear();
			Instant killedAt = Instant.now();
			server.kill();
			server = ServerProcess.start(Kind.STARTER, port, "1g", List.of());
			Instant readyAt = Instant.now();
			long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
			while (ManagedClients.openCount(connections) < this.connections && System.nanoTime() < deadline) {
				EchoScenario.sleep(Duration.ofMillis(50));
			}
			EchoScenario.sleep(Duration.ofMillis(200));
			long kill = micros(killedAt);
			long ready = micros(readyAt);
			List<Attempt> attempts = new ArrayList<>();
			Map<String, Integer> reasons = new TreeMap<>();
			for (ConnectionEvent event : events) {
				if (event instanceof ConnectionEvent.StateChanged changed && changed.from() == ConnectionState.CONNECTING) {
					attempts.add(new Attempt(micros(changed.timestamp()) - kill, changed.to() == ConnectionState.OPEN, null));
				}
				else if (event instanceof ConnectionEvent.Closed closed && micros(closed.timestamp()) > ready) {
					reasons.merge(shorten(closed.close().reason()), 1, Integer::sum);
				}
			}
			attempts.sort((a, b) -> Long.compare(a.micros, b.micros));
			List<Long> opens = attempts.stream().filter(Attempt::opened).map(Attempt::micros).toList();
			int failedWhileDown = (int) attempts.stream().filter((a) -> !a.opened && a.micros < ready - kill).count();
			int failedWhileUp = (int) attempts.stream().filter((a) -> !a.opened && a.micros >= ready - kill).count();
			int peak = 0;
			for (int i = 0, j = 0; i < opens.size(); i++) {
				while (opens.get(i) - opens.get(j) >= 1_000_000) {
					j++;
				}
				peak = Math.max(peak, i - j + 1);
			}
			List<double[]> timeline = new ArrayList<>();
			Map<Long, Integer> buckets = new TreeMap<>();
			for (long open : opens) {
				buckets.merge(open / 100_000, 1, Integer::sum);
			}
			long last = buckets.isEmpty() ? 0 : Collections.max(buckets.keySet());
			for (long b = 0; b <= last + 1; b++) {
				timeline.add(new double[] { b / 10.0, buckets.getOrDefault(b, 0) * 10.0 });
			}
			double allOpen = (opens.size() >= this.connections && ManagedClients.openCount(connections) == this.connections)
					? opens.get(opens.size() - 1) / 1e6 : Double.NaN;
			return new Sample(allOpen, (ready - kill) / 1e6, peak, failedWhileDown, failedWhileUp, reasons, timeline);
		}
		finally {
			server.close();
		}
	}

	private static String shorten(String reason) {
		String r = reason.replaceAll("\\d+", "#");
		return (r.length() > 80) ? r.substring(0, 80) : r;
	}

	static long micros(Instant instant) {
		return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1000;
	}

	private void report(String loadBefore) {
		Results results = new Results("storm", "benchmarks/run.sh storm");
		results.line(fmt("%,d managed connections (resilient-ws client, default settings but the jitter) to a "
				+ "resilient-ws server that is killed (SIGKILL) and started again at once on the same port; %d runs "
				+ "per variant. Times from the kill. A failed attempt is a connect attempt that ended in "
				+ "WAITING_TO_RECONNECT instead of OPEN; 'while down' = before the new server answered HTTP. "
				+ "Load average before: %s, after: %s.", this.connections, this.reps, loadBefore, Results.loadAverage()))
			.line("");
		List<List<String>> rows = new ArrayList<>();
		this.samples.forEach((variant, list) -> rows.add(List.of(variant,
				Results.spread(list.stream().map(Sample::serverReadySeconds).toList(), "%.2f"),
				Results.spread(list.stream().map(Sample::allOpenSeconds).toList(), "%.2f"),
				Results.spread(list.stream().map((s) -> s.allOpenSeconds - s.serverReadySeconds).toList(), "%.2f"),
				Results.spread(list.stream().map((s) -> (double) s.peakPerSecond).toList(), "%.0f"),
				Results.spread(list.stream().map((s) -> (double) s.failedWhileDown).toList(), "%.0f"),
				Results.spread(list.stream().map((s) -> (double) s.failedWhileUp).toList(), "%.0f"))));
		results.table(List.of("variant", "server answering after s", "all open after s", "all open after server up, s",
				"peak handshakes in 1 s", "failed attempts, server down", "failed attempts, server up"), rows);
		results.line("Failure reasons while the server was up (all runs):").line("");
		this.samples.forEach((variant, list) -> {
			Map<String, Integer> all = new TreeMap<>();
			list.forEach((s) -> s.failureReasons.forEach((k, v) -> all.merge(k, v, Integer::sum)));
			results.line("- " + variant + ": " + (all.isEmpty() ? "none" : all.toString()));
		});
		results.line("");
		results.write();
		Plot plot = new Plot(fmt("Reconnect storm: %,d clients, server killed at 0 s (run 1 of each)", this.connections),
				"seconds since the kill", "connections opened per second (100 ms buckets)").steps().yFromZero();
		this.samples.forEach((variant, list) -> plot.series(variant, list.get(0).timeline));
		double ready = this.samples.values().iterator().next().get(0).serverReadySeconds;
		plot.vertical(ready, fmt("new server answering (run 1, %.1f s)", ready));
		plot.write(Env.docsDir().resolve("storm-timeline.png"));
	}

}
