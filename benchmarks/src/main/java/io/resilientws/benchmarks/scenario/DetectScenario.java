package io.resilientws.benchmarks.scenario;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;

import io.resilientws.benchmarks.driver.Env;
import io.resilientws.benchmarks.driver.FreezableProxy;
import io.resilientws.benchmarks.driver.ManagedClients;
import io.resilientws.benchmarks.driver.ServerProcess;
import io.resilientws.benchmarks.driver.ServerProcess.Kind;
import io.resilientws.benchmarks.report.Plot;
import io.resilientws.benchmarks.report.Results;
import io.resilientws.client.ConnectionEvent;
import io.resilientws.client.ConnectionHandler;
import io.resilientws.client.ManagedConnection;

import static io.resilientws.benchmarks.report.Results.fmt;

/**
 * Scenario 5: half-open links. Managed clients reach a resilient-ws server through a proxy that, at a
 * random moment, freezes every link (no FIN, no RST: bytes simply stop). How long until each end
 * declares its peer dead, against the configured interval + timeout, over many trials: every round
 * freezes all links at once, and each connection's ping phase relative to the freeze is random.
 */
public final class DetectScenario {

	private final int connections;

	private final int rounds;

	private final Duration interval;

	private final Duration timeout;

	private final List<Double> clientMillis = new ArrayList<>();

	private final List<Double> serverMillis = new ArrayList<>();

	private int trials;

	public DetectScenario(Map<String, String> options) {
		this.connections = Integer.parseInt(options.getOrDefault("connections", "100"));
		this.rounds = Integer.parseInt(options.getOrDefault("rounds", "5"));
		this.interval = Duration.ofMillis(Long.parseLong(options.getOrDefault("interval-ms", "2000")));
		this.timeout = Duration.ofMillis(Long.parseLong(options.getOrDefault("timeout-ms", "1000")));
	}

	public void run() throws IOException {
		String loadBefore = Results.loadAverage();
		try (ServerProcess server = ServerProcess.start(Kind.STARTER, 18085, "1g",
				List.of("--resilient-ws.server.heartbeat.interval=" + this.interval.toMillis() + "ms",
						"--resilient-ws.server.heartbeat.timeout=" + this.timeout.toMillis() + "ms"));
				FreezableProxy proxy = new FreezableProxy(18085);
				ManagedClients clients = new ManagedClients()) {
			ConcurrentLinkedQueue<ConnectionEvent.Closed> deaths = new ConcurrentLinkedQueue<>();
			clients.onEvent((event) -> {
				if (event instanceof ConnectionEvent.Closed closed && closed.close().reason().startsWith("heartbeat")) {
					deaths.add(closed);
				}
			});
			List<ManagedConnection> open = clients.open(this.connections,
					URI.create("ws://127.0.0.1:" + proxy.port() + "/ws"), new ConnectionHandler() {
					}, (settings) -> settings.heartbeatInterval(this.interval)
						.heartbeatTimeout(this.timeout)
						.heartbeatMaxMissed(1)
						.connectTimeout(Duration.ofSeconds(3))
						.reconnectInitialDelay(Duration.ofMillis(200))
						.reconnectMaxDelay(Duration.ofSeconds(1)), 50, Duration.ofSeconds(60));
			for (int round = 0; round < this.rounds; round++) {
				awaitAllOpen(open);
				// Each connection's ping schedules (client and server) start when it opens: reopen them one by
				// one, spread over an interval in random order, so that their phases against the freeze are uniform.
				List<ManagedConnection> shuffled = new ArrayList<>(open);
				Collections.shuffle(shuffled);
				long gapMicros = this.interval.toMillis() * 1000 / shuffled.size();
				for (ManagedConnection connection : shuffled) {
					connection.reconnect();
					java.util.concurrent.locks.LockSupport.parkNanos(gapMicros * 1000);
				}
				awaitAllOpen(open);
				EchoScenario.sleep(Duration.ofMillis(ThreadLocalRandom.current().nextLong(this.interval.toMillis())));
				server.closes();
				deaths.clear();
				Instant frozenAt = Instant.now();
				proxy.freeze();
				EchoScenario.sleep(this.interval.plus(this.timeout).plusSeconds(3));
				long frozen = StormScenario.micros(frozenAt);
				int clientSeen = 0;
				for (ConnectionEvent.Closed death : deaths) {
					this.clientMillis.add((StormScenario.micros(death.timestamp()) - frozen) / 1000.0);
					clientSeen++;
				}
				int serverSeen = 0;
				for (Map<String, Object> close : server.closes()) {
					if ("HEARTBEAT_TIMEOUT".equals(close.get("cause"))) {
						this.serverMillis.add((((Number) close.get("timeMicros")).longValue() - frozen) / 1000.0);
						serverSeen++;
					}
				}
				this.trials += this.connections;
				System.out.println(fmt("round %d: %d of %d clients and %d of %d server sessions declared dead", round + 1,
						clientSeen, this.connections, serverSeen, this.connections));
				proxy.cutAll();
				proxy.unfreeze();
			}
		}
		report(loadBefore);
	}

	private static void awaitAllOpen(List<ManagedConnection> connections) {
		long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
		while (ManagedClients.openCount(connections) < connections.size()) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("connections did not all come back");
			}
			EchoScenario.sleep(Duration.ofMillis(50));
		}
		EchoScenario.sleep(Duration.ofMillis(500));
	}

	private void report(String loadBefore) {
		double bound = this.interval.plus(this.timeout).toMillis();
		Results results = new Results("detect", "benchmarks/run.sh detect");
		results.line(fmt("%d rounds × %d managed connections through a proxy that freezes every link at a random "
				+ "moment (%d trials per side); before each round the connections are reopened one by one over an "
				+ "interval, so each one's ping phase against the freeze is uniform. Heartbeat on both ends: interval %d ms, timeout %d ms, max-missed 1, "
				+ "so a dead link should be declared within interval + timeout = %.0f ms. Times from the freeze to "
				+ "the connection's Closed event (client) or the session's HEARTBEAT_TIMEOUT close (server). Load "
				+ "average before: %s, after: %s.", this.rounds, this.connections, this.trials, this.interval.toMillis(),
				this.timeout.toMillis(), bound, loadBefore, Results.loadAverage()))
			.line("");
		List<List<String>> rows = new ArrayList<>();
		rows.add(row("client (ManagedConnection)", this.clientMillis, bound));
		rows.add(row("server (ManagedSession)", this.serverMillis, bound));
		results.table(List.of("side", "detected", "min ms", "p50 ms", "p90 ms", "p99 ms", "max ms",
				"over interval + timeout"), rows);
		results.line("Plain Spring has no heartbeat on either side: neither end ever notices a frozen link (see "
				+ "BOOT4-FACTS: 'never notices a half-open link').");
		results.write();
		Plot plot = new Plot(fmt("Half-open link detection, %d trials per side (interval %d ms + timeout %d ms)",
				this.trials, this.interval.toMillis(), this.timeout.toMillis()), "ms from freeze to declared dead",
				"trials per 100 ms").steps().yFromZero();
		plot.series("client", histogram(this.clientMillis, 100));
		plot.series("server", histogram(this.serverMillis, 100));
		plot.vertical(this.timeout.toMillis(), "timeout");
		plot.vertical(bound, "interval + timeout");
		plot.write(Env.docsDir().resolve("detect-histogram.png"));
	}

	private List<String> row(String side, List<Double> values, double bound) {
		List<Double> sorted = new ArrayList<>(values);
		Collections.sort(sorted);
		long over = sorted.stream().filter((v) -> v > bound).count();
		return List.of(side, fmt("%d of %d", sorted.size(), this.trials), fmt("%.0f", pct(sorted, 0)),
				fmt("%.0f", pct(sorted, 50)), fmt("%.0f", pct(sorted, 90)), fmt("%.0f", pct(sorted, 99)),
				fmt("%.0f", pct(sorted, 100)), fmt("%d (max %+.0f ms)", over, pct(sorted, 100) - bound));
	}

	static double pct(List<Double> sorted, double p) {
		if (sorted.isEmpty()) {
			return Double.NaN;
		}
		int index = (int) Math.ceil(p / 100 * sorted.size()) - 1;
		return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
	}

	static List<double[]> histogram(List<Double> values, double bin) {
		Map<Long, Integer> counts = new TreeMap<>();
		for (double v : values) {
			counts.merge((long) Math.floor(v / bin), 1, Integer::sum);
		}
		List<double[]> points = new ArrayList<>();
		if (counts.isEmpty()) {
			return points;
		}
		long first = Math.min(0, Collections.min(counts.keySet()));
		long last = Collections.max(counts.keySet());
		for (long b = first; b <= last + 1; b++) {
			points.add(new double[] { b * bin, counts.getOrDefault(b, 0) });
		}
		return points;
	}

}
