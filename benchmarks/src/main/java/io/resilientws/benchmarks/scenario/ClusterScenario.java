package io.resilientws.benchmarks.scenario;

import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import io.resilientws.benchmarks.driver.Env;
import io.resilientws.benchmarks.driver.JdkClients;
import io.resilientws.benchmarks.driver.Latency;
import io.resilientws.benchmarks.driver.RedisProcess;
import io.resilientws.benchmarks.driver.ServerProcess;
import io.resilientws.benchmarks.driver.ServerProcess.Kind;
import io.resilientws.benchmarks.report.Plot;
import io.resilientws.benchmarks.report.Results;
import io.resilientws.benchmarks.scenario.FanoutScenario.Group;

import static io.resilientws.benchmarks.report.Results.fmt;

/**
 * Scenario 12 (issue 12): a broadcast fan-out to {@code sessions} JDK clients, from one instance or
 * spread evenly over three that share one {@code redis-server} of the scenario's own. The first
 * instance runs the paced broadcast (each message carries the time it was due); its own clients are
 * the <em>local</em> path, the other instances' clients the <em>cross-instance</em> path through
 * Redis. A ladder of offered deliveries per second (broadcasts/s × all sessions) to saturation.
 * <p>
 * Variants: plain Spring on one instance (a loop over {@code ConcurrentWebSocketSessionDecorator}s),
 * resilient-ws on one instance (cluster mode off), resilient-ws on three in cluster mode, and Socket.IO
 * 4 with {@code @socket.io/redis-adapter} on three Node processes (optionally on one,
 * {@code socketio-single}), whose clients speak Engine.IO v4 over a raw WebSocket.
 * <p>
 * Options: {@code --reps=3 --sessions=900 --size=1024 --rates=5000,10000,20000,40000,80000,160000
 * --step=8 --variants=plain,single,cluster,socketio}.
 */
public final class ClusterScenario {

	record Variant(String name, String label, Kind kind, int instances) {

		boolean clustered() {
			return this.kind == Kind.SOCKETIO || this.instances > 1;
		}

	}

	/** One rung of the ladder. Latencies in ms; the cross-instance one is NaN on one instance. */
	record Sample(double offered, double delivered, double localP50, double localP99, double crossP50,
			double crossP99, long missing, double cpuMicrosPerDelivery) {
	}

	static final Map<String, Variant> VARIANTS = Map.of(
			"plain", new Variant("plain", "plain Spring, 1 instance", Kind.PLAIN, 1),
			"single", new Variant("single", "resilient-ws, 1 instance", Kind.STARTER, 1),
			"cluster", new Variant("cluster", "resilient-ws, 3 instances + Redis", Kind.STARTER, 3),
			"socketio", new Variant("socketio", "Socket.IO + redis-adapter, 3 instances", Kind.SOCKETIO, 3),
			"socketio-single", new Variant("socketio-single", "Socket.IO + redis-adapter, 1 instance", Kind.SOCKETIO, 1));

	/** The Engine.IO v4 handshake over a plain WebSocket, no HTTP long-polling first. */
	static final String SOCKET_IO_PATH = "/socket.io/?EIO=4&transport=websocket";

	private static final int FIRST_PORT = 18082;

	private final int reps;

	private final int sessions;

	private final int size;

	private final List<Integer> rates;

	private final Duration step;

	private final List<Variant> variants = new ArrayList<>();

	private final Map<Variant, Map<Integer, List<Sample>>> ladder = new LinkedHashMap<>();

	public ClusterScenario(Map<String, String> options) {
		this.reps = Integer.parseInt(options.getOrDefault("reps", "3"));
		this.sessions = Integer.parseInt(options.getOrDefault("sessions", "900"));
		this.size = Integer.parseInt(options.getOrDefault("size", "1024"));
		this.rates = EchoScenario.ints(options.getOrDefault("rates", "5000,10000,20000,40000,80000,160000"));
		this.step = Duration.ofSeconds(Long.parseLong(options.getOrDefault("step", "8")));
		for (String name : options.getOrDefault("variants", "plain,single,cluster,socketio").split(",")) {
			Variant variant = VARIANTS.get(name.trim());
			if (variant == null) {
				throw new IllegalArgumentException("unknown variant " + name + "; known: " + VARIANTS.keySet());
			}
			this.variants.add(variant);
		}
	}

	public void run() {
		String loadBefore = Results.loadAverage();
		try (RedisProcess redis = RedisProcess.start()) {
			System.out.println("redis-server on port " + redis.port());
			for (int rep = 0; rep < this.reps; rep++) {
				for (int v = 0; v < this.variants.size(); v++) {
					runVariant(this.variants.get((v + rep) % this.variants.size()), redis, rep);
				}
			}
		}
		report(loadBefore);
	}

	private void runVariant(Variant variant, RedisProcess redis, int rep) {
		List<ServerProcess> servers = new ArrayList<>();
		try (JdkClients clients = new JdkClients(4, 2)) {
			for (int i = 0; i < variant.instances; i++) {
				servers.add(ServerProcess.start(variant.kind, FIRST_PORT + i, "1g", arguments(variant, redis, i)));
			}
			awaitCluster(servers, variant);
			System.out.println("rep " + (rep + 1) + ": " + variant.label + " up");
			Group local = new Group();
			Group cross = new Group();
			List<WebSocket> sockets = new ArrayList<>();
			int perInstance = this.sessions / variant.instances;
			for (int i = 0; i < servers.size(); i++) {
				Group group = (i == 0) ? local : cross;
				Supplier<WebSocket.Listener> listener = (variant.kind == Kind.SOCKETIO) ? () -> new SocketIoListener(group)
						: () -> new FanoutScenario.Listener(group);
				sockets.addAll(clients.openMany(perInstance,
						(variant.kind == Kind.SOCKETIO) ? servers.get(i).uri(SOCKET_IO_PATH) : servers.get(i).wsUri(),
						listener, 50));
			}
			for (ServerProcess server : servers) {
				await(server, "sessions", perInstance);
			}
			// Warm-up: JIT on every side, Redis connections in use.
			broadcast(servers, 2000, Duration.ofSeconds(3), local, cross);
			for (int rate : this.rates) {
				Sample sample = broadcast(servers, rate, this.step, local, cross);
				this.ladder.computeIfAbsent(variant, (k) -> new LinkedHashMap<>())
					.computeIfAbsent(rate, (k) -> new ArrayList<>())
					.add(sample);
				System.out.println(fmt("  %-40s offered %8.0f/s delivered %8.0f/s local p50 %s p99 %s ms, "
						+ "cross-instance p50 %s p99 %s ms, missing %d, server CPU %.1f µs per delivery", variant.label,
						sample.offered, sample.delivered, FanoutScenario.ms(sample.localP50),
						FanoutScenario.ms(sample.localP99), FanoutScenario.ms(sample.crossP50),
						FanoutScenario.ms(sample.crossP99), sample.missing, sample.cpuMicrosPerDelivery));
			}
			JdkClients.abortAll(sockets);
		}
		finally {
			servers.forEach(ServerProcess::close);
		}
	}

	private static List<String> arguments(Variant variant, RedisProcess redis, int index) {
		if (variant.kind == Kind.SOCKETIO) {
			return List.of("--redis-port=" + redis.port());
		}
		if (!variant.clustered()) {
			return List.of();
		}
		return List.of("--resilient-ws.cluster.enabled=true", "--resilient-ws.cluster.node-id=bench-" + (index + 1),
				"--spring.data.redis.host=127.0.0.1", "--spring.data.redis.port=" + redis.port());
	}

	/** Waits until every instance sees all of them, so that no broadcast goes to a partial cluster. */
	private static void awaitCluster(List<ServerProcess> servers, Variant variant) {
		if (variant.clustered()) {
			for (ServerProcess server : servers) {
				await(server, "nodes", servers.size());
			}
		}
	}

	private static void await(ServerProcess server, String stat, long expected) {
		long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
		while (true) {
			Object value = server.stats(false).get(stat);
			if (value instanceof Number number && number.longValue() == expected) {
				return;
			}
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("server on port " + server.port() + " reports " + stat + " = " + value
						+ ", not " + expected);
			}
			EchoScenario.sleep(Duration.ofMillis(50));
		}
	}

	/**
	 * Has the first instance broadcast {@code deliveries} per second (over all sessions) for
	 * {@code duration}, then waits until every client has everything, or for 2 s of silence (at most
	 * 30 s). What never arrived counts as the slowest latency of its path. CPU is that of every server
	 * process (not Redis, not the driver) over the same time.
	 */
	private Sample broadcast(List<ServerProcess> servers, int deliveries, Duration duration, Group local, Group cross) {
		ServerProcess origin = servers.get(0);
		local.reset();
		cross.reset();
		long members = local.members.get() + cross.members.get();
		double broadcastsPerSecond = (double) deliveries / members;
		int count = (int) Math.max(1, Math.round(broadcastsPerSecond * duration.toMillis() / 1000.0));
		double cpuBefore = cpuNanos(servers);
		long started = System.nanoTime();
		origin.broadcast(count, broadcastsPerSecond, this.size);
		long expected = count * members;
		long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
		long lastSeen = -1;
		long quietSince = System.nanoTime();
		while (System.nanoTime() < deadline) {
			long received = local.count.sum() + cross.count.sum();
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
		long received = local.count.sum() + cross.count.sum();
		double cpuMicros = (cpuNanos(servers) - cpuBefore) / 1000;
		long firstDue = Math.min(local.firstStamp.get(), cross.firstStamp.get());
		long lastArrival = Math.max(local.lastArrival.get(), cross.lastArrival.get());
		double seconds = Math.max(1e-9, (lastArrival - Math.max(firstDue, started)) / 1e9);
		Latency localLatency = withUndelivered(local, count);
		Latency crossLatency = withUndelivered(cross, count);
		boolean hasCross = cross.members.get() > 0;
		return new Sample(deliveries, received / seconds,
				localLatency.percentileMillis(50), localLatency.percentileMillis(99),
				hasCross ? crossLatency.percentileMillis(50) : Double.NaN,
				hasCross ? crossLatency.percentileMillis(99) : Double.NaN, expected - received,
				cpuMicros / Math.max(1, received));
	}

	private static double cpuNanos(List<ServerProcess> servers) {
		return servers.stream().mapToDouble((server) -> ((Number) server.stats(false).get("cpuNanos")).doubleValue()).sum();
	}

	private static Latency withUndelivered(Group group, int count) {
		Latency latency = new Latency();
		latency.histogram().add(group.latency.histogram());
		for (long i = group.count.sum(); i < count * group.members.get(); i++) {
			latency.recordNanos(Long.MAX_VALUE);
		}
		return latency;
	}

	/**
	 * A Socket.IO client in the fewest frames Engine.IO v4 allows: after the server's open packet
	 * ({@code 0{...}}) it connects to the main namespace ({@code 40}), answers every ping ({@code 2})
	 * with a pong ({@code 3}), and takes every event ({@code 42["m","<stamp>|..."]}) as one delivery.
	 */
	static final class SocketIoListener extends JdkClients.TextListener {

		private static final String EVENT = "42[\"m\",\"";

		private final Group group;

		/** Sends one after the other: the JDK's WebSocket refuses a send while one is pending. */
		private CompletableFuture<?> sending = CompletableFuture.completedFuture(null);

		SocketIoListener(Group group) {
			this.group = group;
			group.members.incrementAndGet();
		}

		@Override
		protected void received(WebSocket webSocket, CharSequence text, long arrival) {
			if (text.length() > EVENT.length() && text.charAt(0) == '4' && text.charAt(1) == '2') {
				this.group.received(text.subSequence(EVENT.length(), text.length()), arrival);
			}
			else if (text.length() == 1 && text.charAt(0) == '2') {
				send(webSocket, "3");
			}
			else if (text.length() > 0 && text.charAt(0) == '0') {
				send(webSocket, "40");
			}
		}

		private void send(WebSocket webSocket, String packet) {
			this.sending = this.sending.thenCompose((ignored) -> webSocket.sendText(packet, true));
		}

	}

	private void report(String loadBefore) {
		Results results = new Results("cluster", "benchmarks/run.sh cluster");
		results.line(fmt("%d sessions (JDK clients) in all, %d B text messages, broadcast by the first instance at a "
				+ "paced rate; on three instances 1/3 of the sessions are on each, and the first instance's are the "
				+ "local path, the others' the cross-instance path through one redis-server (no persistence). Ladder "
				+ "of offered deliveries/s (broadcasts/s × %d) for %d s each, %d runs per variant (order rotated). "
				+ "Latency = arrival − the time the broadcast was due; what never arrived counts as the slowest. "
				+ "Load average before: %s, after: %s.", this.sessions, this.size, this.sessions, this.step.toSeconds(),
				this.reps, loadBefore, Results.loadAverage()))
			.line("");
		List<List<String>> rows = new ArrayList<>();
		for (int rate : this.rates) {
			this.ladder.forEach((variant, byRate) -> {
				List<Sample> list = byRate.getOrDefault(rate, List.of());
				if (list.isEmpty()) {
					return;
				}
				List<Double> crossMinusLocal = list.stream().map((s) -> s.crossP99 - s.localP99).toList();
				rows.add(List.of(fmt("%,d", rate), variant.label,
						Results.spread(list.stream().map(Sample::delivered).toList(), "%.0f"),
						FanoutScenario.spreadMs(list.stream().map(Sample::localP50).toList()),
						FanoutScenario.spreadMs(list.stream().map(Sample::localP99).toList()),
						variant.instances > 1 ? FanoutScenario.spreadMs(list.stream().map(Sample::crossP50).toList()) : "–",
						variant.instances > 1 ? FanoutScenario.spreadMs(list.stream().map(Sample::crossP99).toList()) : "–",
						variant.instances > 1 ? Results.spread(crossMinusLocal, "%.2f") : "–",
						Results.spread(list.stream().map((s) -> (double) s.missing).toList(), "%.0f"),
						Results.spread(list.stream().map(Sample::cpuMicrosPerDelivery).toList(), "%.1f")));
			});
		}
		results.table(List.of("offered deliveries/s", "server", "delivered/s", "local p50 ms", "local p99 ms",
				"cross p50 ms", "cross p99 ms", "cross − local p99 ms", "not delivered", "server CPU µs/delivery"), rows);
		List<List<String>> saturation = new ArrayList<>();
		this.ladder.forEach((variant, byRate) -> {
			List<Double> best = new ArrayList<>();
			for (int rep = 0; rep < this.reps; rep++) {
				double max = 0;
				for (List<Sample> list : byRate.values()) {
					if (rep < list.size()) {
						max = Math.max(max, list.get(rep).delivered);
					}
				}
				best.add(max);
			}
			saturation.add(List.of(variant.label, Results.spread(best, "%.0f")));
		});
		results.line("### Saturation: the most delivered per second on any rung").line("");
		results.table(List.of("server", "deliveries/s"), saturation);
		results.write();

		Plot p99 = new Plot(fmt("Broadcast to %,d sessions: p99 by path (median of %d runs)", this.sessions, this.reps),
				"offered deliveries per second", "p99 latency (ms)").logY();
		Plot delivered = new Plot(fmt("Broadcast to %,d sessions on 1 or 3 instances: delivered vs offered", this.sessions),
				"offered deliveries per second", "delivered per second").yFromZero();
		this.ladder.forEach((variant, byRate) -> {
			List<double[]> local = new ArrayList<>();
			List<double[]> cross = new ArrayList<>();
			List<double[]> rate = new ArrayList<>();
			byRate.forEach((r, list) -> {
				local.add(new double[] { r, Results.median(list.stream().map(Sample::localP99).toList()) });
				cross.add(new double[] { r, Results.median(list.stream().map(Sample::crossP99).toList()) });
				rate.add(new double[] { r, Results.median(list.stream().map(Sample::delivered).toList()) });
			});
			p99.series(variant.label + ((variant.instances > 1) ? ", local" : ""), local);
			if (variant.instances > 1) {
				p99.series(variant.label + ", cross-instance", cross);
			}
			delivered.series(variant.label, rate);
		});
		p99.write(Env.docsDir().resolve("cluster-p99.png"));
		delivered.write(Env.docsDir().resolve("cluster-delivered.png"));
	}

}
