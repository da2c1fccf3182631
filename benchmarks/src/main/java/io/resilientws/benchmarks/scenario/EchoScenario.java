package io.resilientws.benchmarks.scenario;

import java.net.URI;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import io.resilientws.benchmarks.driver.Env;
import io.resilientws.benchmarks.driver.JdkClients;
import io.resilientws.benchmarks.driver.Latency;
import io.resilientws.benchmarks.driver.ManagedClients;
import io.resilientws.benchmarks.driver.Payloads;
import io.resilientws.benchmarks.driver.ServerProcess;
import io.resilientws.benchmarks.driver.ServerProcess.Kind;
import io.resilientws.benchmarks.report.Plot;
import io.resilientws.benchmarks.report.Results;
import io.resilientws.client.ConnectionHandler;
import io.resilientws.client.ManagedConnection;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.WebSocketContainer;

import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketHttpHeaders;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.client.standard.StandardWebSocketClient;
import org.springframework.web.socket.handler.TextWebSocketHandler;

import static io.resilientws.benchmarks.report.Results.fmt;

/**
 * Scenario 1 (and the echo half of 6): closed-loop echo, one message in flight per connection. Each
 * message carries its send time; the round trip is measured when the echo arrives.
 * <p>
 * Pairs compared on the same Tomcat (and the same server JVM flags), in the same run:
 * <ul>
 * <li>resilient-ws: managed client (JDK transport + send queue + heartbeat) to a registered session;</li>
 * <li>baseline: the raw JDK client to plain Spring (the same transport without the library on either side);</li>
 * <li>server-side only: raw JDK client to the starter's server;</li>
 * <li>plain Spring on both ends: {@link StandardWebSocketClient} (Tomcat's client) to plain Spring;</li>
 * <li>Node ws: raw JDK client to the Node reference server.</li>
 * </ul>
 */
public final class EchoScenario {

	enum ClientKind {

		JDK("JDK client"), MANAGED("managed client"), SPRING("Spring StandardWebSocketClient");

		final String label;

		ClientKind(String label) {
			this.label = label;
		}

	}

	record Config(Kind server, ClientKind client) {

		String label() {
			return this.client.label + " → " + this.server.label();
		}

	}

	record Point(int size, int connections) {
	}

	/** @param serverMicrosPerMessage the server process's CPU time over the measured window per round trip */
	record Sample(double messagesPerSecond, double p50, double p99, double serverMicrosPerMessage) {
	}

	static final Config BASELINE = new Config(Kind.PLAIN, ClientKind.JDK);

	static final Config STARTER = new Config(Kind.STARTER, ClientKind.MANAGED);

	private final int reps;

	private final Duration warmup;

	private final Duration measure;

	private final List<Integer> sizes;

	private final List<Integer> connections;

	private final boolean node;

	private final String fromLog;

	/** HttpClients of the raw JDK load (each has one selector thread; the managed client uses one). */
	private final int jdkClients;

	private final Map<Config, Map<Point, List<Sample>>> samples = new LinkedHashMap<>();

	public EchoScenario(Map<String, String> options) {
		this.reps = Integer.parseInt(options.getOrDefault("reps", "3"));
		this.warmup = Duration.ofSeconds(Long.parseLong(options.getOrDefault("warmup", "2")));
		this.measure = Duration.ofSeconds(Long.parseLong(options.getOrDefault("measure", "5")));
		this.sizes = ints(options.getOrDefault("sizes", "64,1024,65536"));
		this.connections = ints(options.getOrDefault("connections", "1,100"));
		this.node = Boolean.parseBoolean(options.getOrDefault("node", "true"));
		this.fromLog = options.get("from-log");
		this.jdkClients = Integer.parseInt(options.getOrDefault("jdk-clients", "4"));
	}

	static List<Integer> ints(String csv) {
		List<Integer> values = new ArrayList<>();
		for (String part : csv.split(",")) {
			values.add(Integer.parseInt(part.trim()));
		}
		return values;
	}

	/**
	 * Rebuilds the report and plots from the per-point lines a previous run printed
	 * ({@code --from-log=<file>}), e.g. after a later run overwrote them.
	 */
	public void replot(java.nio.file.Path log, String loadBefore) throws java.io.IOException {
		java.util.regex.Pattern line = java.util.regex.Pattern.compile(
				"^\\s+(.+?)\\s+(\\d+) B x\\s+(\\d+):\\s+(\\d+) msg/s\\s+p50\\s+([\\d.]+) ms\\s+p99\\s+([\\d.]+) ms"
						+ "(?:\\s+server\\s+([\\d.]+) µs/msg)?");
		for (String text : java.nio.file.Files.readAllLines(log)) {
			java.util.regex.Matcher m = line.matcher(text);
			if (!m.find()) {
				continue;
			}
			for (Kind kind : Kind.values()) {
				for (ClientKind client : clientsFor(kind)) {
					Config config = new Config(kind, client);
					if (config.label().equals(m.group(1))) {
						this.samples.computeIfAbsent(config, (k) -> new LinkedHashMap<>())
							.computeIfAbsent(new Point(Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))),
									(k) -> new ArrayList<>())
							.add(new Sample(Double.parseDouble(m.group(4)), Double.parseDouble(m.group(5)),
									Double.parseDouble(m.group(6)),
									(m.group(7) != null) ? Double.parseDouble(m.group(7)) : Double.NaN));
					}
				}
			}
		}
		report(loadBefore);
	}

	public void run() {
		List<Kind> servers = new ArrayList<>(List.of(Kind.PLAIN, Kind.STARTER));
		if (this.node) {
			servers.add(Kind.NODE);
		}
		String loadBefore = Results.loadAverage();
		for (int rep = 0; rep < this.reps; rep++) {
			for (int s = 0; s < servers.size(); s++) {
				// Rotate the order so that no server always runs first (cold machine) or last.
				Kind kind = servers.get((s + rep) % servers.size());
				try (ServerProcess server = ServerProcess.start(kind, 18081, "1g", List.of("--bench.max-message=131072"))) {
					System.out.println("rep " + (rep + 1) + ": " + kind + " server up, pid " + server.pid());
					runOne(server, ClientKind.JDK, 100, 1024, Duration.ofSeconds(5), true);
					for (ClientKind client : clientsFor(kind)) {
						for (int size : this.sizes) {
							for (int conns : this.connections) {
								Sample sample = runOne(server, client, conns, size, this.measure, false);
								this.samples.computeIfAbsent(new Config(kind, client), (k) -> new LinkedHashMap<>())
									.computeIfAbsent(new Point(size, conns), (k) -> new ArrayList<>())
									.add(sample);
								System.out.println(fmt("  %-45s %6d B x %3d: %9.0f msg/s  p50 %7.3f ms  p99 %7.3f ms  server %6.2f µs/msg",
										new Config(kind, client).label(), size, conns, sample.messagesPerSecond,
										sample.p50, sample.p99, sample.serverMicrosPerMessage));
							}
						}
					}
				}
			}
		}
		report(loadBefore);
	}

	private static List<ClientKind> clientsFor(Kind kind) {
		return switch (kind) {
			case PLAIN -> List.of(ClientKind.JDK, ClientKind.SPRING);
			case STARTER -> List.of(ClientKind.JDK, ClientKind.MANAGED);
			case NODE -> List.of(ClientKind.JDK);
			case SOCKETIO -> throw new IllegalArgumentException("Socket.IO has no echo endpoint");
		};
	}

	private Sample runOne(ServerProcess server, ClientKind client, int conns, int size, Duration duration,
			boolean warmupOnly) {
		Latency latency = new Latency();
		LongAdder count = new LongAdder();
		Loop loop = new Loop(latency, count, size);
		try (AutoCloseable load = switch (client) {
			case JDK -> jdk(server.wsUri(), conns, loop);
			case MANAGED -> managed(server.wsUri(), conns, loop);
			case SPRING -> spring(server.wsUri(), conns, loop);
		}) {
			sleep(warmupOnly ? Duration.ZERO : this.warmup);
			latency.reset();
			count.reset();
			double cpuBefore = serverCpuNanos(server);
			long start = System.nanoTime();
			sleep(duration);
			long messages = count.sum();
			long elapsed = System.nanoTime() - start;
			double cpuMicros = (serverCpuNanos(server) - cpuBefore) / 1000;
			Sample sample = new Sample(messages * 1e9 / elapsed, latency.percentileMillis(50),
					latency.percentileMillis(99), (messages > 0) ? cpuMicros / messages : Double.NaN);
			loop.running = false;
			return sample;
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	// Throughput moves with whatever else the two cores do; the server's CPU per round trip much less.
	private static double serverCpuNanos(ServerProcess server) {
		return ((Number) server.stats(false).get("cpuNanos")).doubleValue();
	}

	/** What every client does with an echo: record its round trip, send the next. */
	static final class Loop {

		final Latency latency;

		final LongAdder count;

		final int size;

		volatile boolean running = true;

		Loop(Latency latency, LongAdder count, int size) {
			this.latency = latency;
			this.count = count;
			this.size = size;
		}

		void echoed(CharSequence text, long arrival) {
			this.latency.recordNanos(arrival - Payloads.stampOf(text));
			this.count.increment();
		}

		String next() {
			return Payloads.stamped(System.nanoTime(), this.size);
		}

	}

	private AutoCloseable jdk(URI uri, int conns, Loop loop) {
		JdkClients clients = new JdkClients(this.jdkClients, 2);
		List<WebSocket> sockets = clients.openMany(conns, uri, () -> new JdkClients.TextListener() {
			private CompletableFuture<WebSocket> lastSend = CompletableFuture.completedFuture(null);

			@Override
			public void onOpen(WebSocket webSocket) {
				super.onOpen(webSocket);
				send(webSocket);
			}

			@Override
			protected void received(WebSocket webSocket, CharSequence text, long arrival) {
				loop.echoed(text, arrival);
				if (loop.running) {
					send(webSocket);
				}
			}

			// The JDK allows one outstanding send: chain on the previous one.
			private void send(WebSocket webSocket) {
				this.lastSend = this.lastSend.thenCompose((ignored) -> webSocket.sendText(loop.next(), true));
			}
		}, 50);
		return () -> {
			loop.running = false;
			sockets.forEach((ws) -> ws.sendClose(1000, "").orTimeout(2, TimeUnit.SECONDS).exceptionally((ex) -> null));
			sleep(Duration.ofMillis(300));
			JdkClients.abortAll(sockets);
			clients.close();
		};
	}

	private static AutoCloseable managed(URI uri, int conns, Loop loop) {
		ManagedClients clients = new ManagedClients();
		clients.open(conns, uri, new ConnectionHandler() {
			@Override
			public void onOpen(ManagedConnection connection) {
				connection.send(loop.next());
			}

			@Override
			public void onText(ManagedConnection connection, String text) {
				loop.echoed(text, System.nanoTime());
				if (loop.running) {
					connection.send(loop.next());
				}
			}
		}, (settings) -> settings, 50, Duration.ofSeconds(60));
		return () -> {
			loop.running = false;
			clients.close();
		};
	}

	private static AutoCloseable spring(URI uri, int conns, Loop loop) throws Exception {
		WebSocketContainer container = ContainerProvider.getWebSocketContainer();
		container.setDefaultMaxTextMessageBufferSize(1 << 17);
		StandardWebSocketClient client = new StandardWebSocketClient(container);
		TextWebSocketHandler handler = new TextWebSocketHandler() {
			@Override
			protected void handleTextMessage(WebSocketSession session, TextMessage message) throws Exception {
				loop.echoed(message.getPayload(), System.nanoTime());
				if (loop.running) {
					session.sendMessage(new TextMessage(loop.next()));
				}
			}
		};
		List<WebSocketSession> sessions = new ArrayList<>();
		for (int i = 0; i < conns; i++) {
			sessions.add(client.execute(handler, new WebSocketHttpHeaders(), uri).get(30, TimeUnit.SECONDS));
		}
		for (WebSocketSession session : sessions) {
			session.sendMessage(new TextMessage(loop.next()));
		}
		return () -> {
			loop.running = false;
			sleep(Duration.ofMillis(100));
			for (WebSocketSession session : sessions) {
				try {
					session.close();
				}
				catch (Exception ex) {
					// closing anyway
				}
			}
		};
	}

	private void report(String loadBefore) {
		Results results = new Results("echo", "benchmarks/run.sh echo");
		if (this.fromLog != null) {
			results.line("(Rebuilt from the per-point lines of the run's log " + this.fromLog
					+ "; the load average below is of the rebuild, see the log for the run's.)").line("");
		}
		results.line(fmt("%d runs of each configuration (server processes restarted per run, order rotated), "
				+ "%d s warm-up + %d s measured per point; the raw JDK load uses %d HttpClient(s). Load average "
				+ "before: %s, after: %s.", this.reps, this.warmup.toSeconds(), this.measure.toSeconds(),
				this.jdkClients, loadBefore, Results.loadAverage()))
			.line("")
			.line("Values: median over the runs, (min–max) in brackets. Ratio = median / baseline median "
					+ "(baseline: JDK client → plain Spring, the same transport without resilient-ws on either side).")
			.line("");
		for (int conns : this.connections) {
			for (int size : this.sizes) {
				Point point = new Point(size, conns);
				List<List<String>> rows = new ArrayList<>();
				List<Sample> base = this.samples.getOrDefault(BASELINE, Map.of()).getOrDefault(point, List.of());
				double baseRate = Results.median(base.stream().map(Sample::messagesPerSecond).toList());
				double baseP50 = Results.median(base.stream().map(Sample::p50).toList());
				double baseP99 = Results.median(base.stream().map(Sample::p99).toList());
				double baseCpu = Results.median(base.stream().map(Sample::serverMicrosPerMessage).toList());
				this.samples.forEach((config, byPoint) -> {
					List<Sample> list = byPoint.getOrDefault(point, List.of());
					if (list.isEmpty()) {
						return;
					}
					List<Double> rates = list.stream().map(Sample::messagesPerSecond).toList();
					List<Double> p50 = list.stream().map(Sample::p50).toList();
					List<Double> p99 = list.stream().map(Sample::p99).toList();
					List<Double> cpu = list.stream().map(Sample::serverMicrosPerMessage).toList();
					rows.add(List.of(config.label(), Results.spread(rates, "%.0f"),
							fmt("%.3f", Results.median(rates) / baseRate), Results.spread(p50, "%.3f"),
							fmt("%.2f", Results.median(p50) / baseP50), Results.spread(p99, "%.3f"),
							fmt("%.2f", Results.median(p99) / baseP99), Results.spread(cpu, "%.2f"),
							fmt("%.2f", Results.median(cpu) / baseCpu)));
				});
				results.line(fmt("### %s B, %d connection%s", size, conns, (conns == 1) ? "" : "s"));
				results.table(List.of("client → server", "messages/s", "ratio", "p50 ms", "ratio", "p99 ms", "ratio",
						"server CPU µs/msg", "ratio"),
						rows);
			}
		}
		results.write();
		for (int conns : this.connections) {
			Plot rate = new Plot(fmt("Echo throughput, %d connection%s (median of %d runs)", conns,
					(conns == 1) ? "" : "s", this.reps), "payload (bytes)", "round trips per second").logX().logY();
			Plot p99 = new Plot(fmt("Echo p99 round trip, %d connection%s (median of %d runs)", conns,
					(conns == 1) ? "" : "s", this.reps), "payload (bytes)", "p99 round trip (ms)").logX().logY();
			this.samples.forEach((config, byPoint) -> {
				List<double[]> ratePoints = new ArrayList<>();
				List<double[]> p99Points = new ArrayList<>();
				for (int size : this.sizes) {
					List<Sample> list = byPoint.getOrDefault(new Point(size, conns), List.of());
					if (!list.isEmpty()) {
						ratePoints.add(new double[] { size,
								Results.median(list.stream().map(Sample::messagesPerSecond).toList()) });
						p99Points.add(new double[] { size, Results.median(list.stream().map(Sample::p99).toList()) });
					}
				}
				rate.series(config.label(), ratePoints);
				p99.series(config.label(), p99Points);
			});
			rate.write(Env.docsDir().resolve("echo-throughput-" + conns + ".png"));
			p99.write(Env.docsDir().resolve("echo-p99-" + conns + ".png"));
		}
	}

	static void sleep(Duration duration) {
		try {
			Thread.sleep(duration.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
