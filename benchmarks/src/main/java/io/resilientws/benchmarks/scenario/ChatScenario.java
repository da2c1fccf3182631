package io.resilientws.benchmarks.scenario;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.resilientws.benchmarks.driver.Env;
import io.resilientws.benchmarks.driver.ProcessCost;
import io.resilientws.benchmarks.driver.ServerProcess;
import io.resilientws.benchmarks.driver.ServerProcess.Kind;
import io.resilientws.benchmarks.report.Results;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.util.unit.DataSize;

import static io.resilientws.benchmarks.report.Results.fmt;

/**
 * Scenario 7, driven by inbound client messages (issue 10): a chat that broadcasts every text it
 * receives, one Node {@code ws} sender with at most {@code window} messages in flight to the slowest
 * of {@code receivers} Node {@code ws} receivers, {@code count} texts of 1 KiB random base64,
 * permessage-deflate off (and once on, at {@code deflate-limit}). For every send buffer limit: plain
 * Spring (a loop over {@code ConcurrentWebSocketSessionDecorator}s of that limit), resilient-ws
 * ({@code send.buffer-limit} = that limit, TERMINATE) and the Node {@code ws} server (terminates a
 * client past that {@code bufferedAmount}), all started once per limit, warmed up by one uncounted
 * run each, then run in turn, rep by rep.
 * <p>
 * The probe counts from the moment every receiver has had a "sync" text, so that no message is sent
 * before the server has registered every session (a client's 'open' comes before that).
 * Delivered msg/s is {@code count} over the time until the slowest receiver had them all; a run that
 * does not complete (a client was cut, after which nothing more is sent) counts what arrived within
 * the {@code bound}. Each run also reports the server's CPU time and context switches per delivered
 * message ({@link ProcessCost}): the two Spring servers differ in how many thread hand-offs a message
 * takes (§18 of BENCHMARKS.md). Options: {@code --reps=3 --limits=64KB,256KB,512KB,1MB --count=20000
 * --window=200 --receivers=1 --bound=20 --deflate-limit=256KB}.
 */
public final class ChatScenario {

	/**
	 * @param cpuMicros the server's CPU time per delivered message
	 * @param switches the server's context switches per delivered message
	 */
	record Run(double rate, int delivered, boolean complete, int duplicates, List<String> closes, long pauses,
			double cpuMicros, double switches) {
	}

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final List<Kind> KINDS = List.of(Kind.PLAIN, Kind.STARTER, Kind.NODE);

	private final int reps;

	private final List<DataSize> limits = new ArrayList<>();

	private final int count;

	private final int window;

	private final int receivers;

	private final int boundSeconds;

	private final DataSize deflateLimit;

	/** By "limit, deflate" and then by kind, in the order run. */
	private final Map<String, Map<Kind, List<Run>>> runs = new LinkedHashMap<>();

	public ChatScenario(Map<String, String> options) {
		this.reps = Integer.parseInt(options.getOrDefault("reps", "3"));
		for (String limit : options.getOrDefault("limits", "64KB,256KB,512KB,1MB").split(",")) {
			this.limits.add(DataSize.parse(limit.trim()));
		}
		this.count = Integer.parseInt(options.getOrDefault("count", "20000"));
		this.window = Integer.parseInt(options.getOrDefault("window", "200"));
		this.receivers = Integer.parseInt(options.getOrDefault("receivers", "1"));
		this.boundSeconds = Integer.parseInt(options.getOrDefault("bound", "20"));
		this.deflateLimit = DataSize.parse(options.getOrDefault("deflate-limit", "256KB"));
	}

	public void run() {
		String loadBefore = Results.loadAverage();
		for (DataSize limit : this.limits) {
			long bytes = limit.toBytes();
			List<ServerProcess> servers = new ArrayList<>();
			try {
				servers.add(ServerProcess.start(Kind.PLAIN, 18091, "512m",
						List.of("--bench.plain-buffer-limit=" + bytes + "B")));
				servers.add(ServerProcess.start(Kind.STARTER, 18092, "512m",
						List.of("--resilient-ws.server.send.buffer-limit=" + bytes + "B")));
				servers.add(ServerProcess.start(Kind.NODE, 18093, "", List.of("--chat-buffer-limit=" + bytes)));
				// One uncounted run each first: the JVMs' JIT, and Tomcat's thread pool, warm up.
				servers.forEach((server) -> runOne(server, false));
				List<Boolean> deflates = limit.equals(this.deflateLimit) ? List.of(false, true) : List.of(false);
				for (boolean deflate : deflates) {
					String variant = label(limit) + (deflate ? ", deflate on" : ", deflate off");
					for (int rep = 0; rep < this.reps; rep++) {
						for (ServerProcess server : servers) {
							Run run = runOne(server, deflate);
							this.runs.computeIfAbsent(variant, (k) -> new LinkedHashMap<>())
								.computeIfAbsent(server.kind(), (k) -> new ArrayList<>())
								.add(run);
							System.out.println(fmt("%-22s rep %d %-13s %,8.0f msg/s  delivered %,6d/%,d  %.1f µs and %.2f"
									+ " switches/msg%s%s  load %s",
									variant, rep + 1, server.kind().label(), run.rate, run.delivered, this.count, run.cpuMicros,
									run.switches,
									run.closes.isEmpty() ? "" : "  closed: " + run.closes,
									(server.kind() == Kind.STARTER) ? "  sender paused " + run.pauses + "x" : "",
									Results.loadAverage()));
						}
					}
				}
			}
			finally {
				servers.forEach(ServerProcess::close);
			}
		}
		report(loadBefore);
	}

	private Run runOne(ServerProcess server, boolean deflate) {
		long pausesBefore = pauses(server);
		ProcessCost costBefore = ProcessCost.of(server.pid());
		List<String> command = List.of("node", Env.benchmarksDir().resolve("node/chat-probe.js").toString(),
				"--url=ws://127.0.0.1:" + server.port() + "/chat", "--count=" + this.count, "--window=" + this.window,
				"--receivers=" + this.receivers, "--deflate=" + deflate, "--bound=" + this.boundSeconds * 1000);
		Process probe;
		try {
			probe = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		try (BufferedReader output = new BufferedReader(
				new InputStreamReader(probe.getInputStream(), StandardCharsets.UTF_8))) {
			String line = output.readLine();
			if (!probe.waitFor(this.boundSeconds + 20, TimeUnit.SECONDS) || line == null) {
				throw new IllegalStateException("The chat probe gave no result: " + command);
			}
			Map<?, ?> result = JSON.readValue(line, Map.class);
			int delivered = ((Number) result.get("delivered")).intValue();
			long millis = ((Number) result.get("millis")).longValue();
			boolean complete = Boolean.TRUE.equals(result.get("complete"));
			int duplicates = ((Number) result.get("duplicates")).intValue();
			double rate = complete ? this.count * 1000.0 / Math.max(1, millis)
					: delivered * 1000.0 / Math.max(millis, this.boundSeconds * 1000L);
			List<String> closes = new ArrayList<>();
			for (Object close : (List<?>) result.get("closes")) {
				Map<?, ?> c = (Map<?, ?>) close;
				closes.add(c.get("client") + " " + c.get("code") + " at " + c.get("atMillis") + " ms");
			}
			ProcessCost cost = ProcessCost.of(server.pid());
			return new Run(rate, delivered, complete, duplicates, closes, pauses(server) - pausesBefore,
					cost.cpuMicrosPerMessage(costBefore, delivered), cost.switchesPerMessage(costBefore, delivered));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
		finally {
			probe.destroyForcibly();
		}
	}

	private static long pauses(ServerProcess server) {
		Object pauses = (server.kind() == Kind.STARTER) ? server.stats(false).get("inboundPauses") : null;
		return (pauses instanceof Number number) ? number.longValue() : 0;
	}

	private static String label(DataSize limit) {
		long bytes = limit.toBytes();
		return (bytes % (1024 * 1024) == 0) ? (bytes / (1024 * 1024)) + " MB" : (bytes / 1024) + " KB";
	}

	private void report(String loadBefore) {
		Results results = new Results("chat", "benchmarks/run.sh chat");
		results.line(fmt("A chat that broadcasts every text it receives (issue 10's probe): one Node `ws` sender, %d Node "
				+ "`ws` receiver(s), %,d texts of 1 KiB random base64, at most %d in flight to the slowest receiver; "
				+ "%d runs per server and variant after one uncounted warm-up run, servers run in turn in each rep. "
				+ "The count starts once every receiver has had a sync text (the server has registered every session). "
				+ "Delivered msg/s = %,d over the time until the slowest receiver had them all; a run that did not "
				+ "complete counts what arrived within %d s. "
				+ "Ratio = median over plain Spring's median in the same variant. Server CPU and context switches "
				+ "(all its threads, from /proc) per delivered message, over each run. Load average before: %s, after: %s.",
				this.receivers, this.count, this.window, this.reps, this.count, this.boundSeconds, loadBefore,
				Results.loadAverage()))
			.line("");
		List<List<String>> rows = new ArrayList<>();
		this.runs.forEach((variant, byKind) -> {
			double plain = Results.median(rates(byKind.get(Kind.PLAIN)));
			for (Kind kind : KINDS) {
				List<Run> list = byKind.get(kind);
				int cut = (int) list.stream().filter((run) -> !run.closes.isEmpty()).count();
				int incomplete = (int) list.stream().filter((run) -> !run.complete).count();
				int duplicates = list.stream().mapToInt(Run::duplicates).sum();
				String pauses = (kind == Kind.STARTER)
						? Results.spread(list.stream().map((run) -> (double) run.pauses).toList(), "%.0f") : "–";
				rows.add(List.of(variant, kind.label(), Results.spread(rates(list), "%,.0f"),
						fmt("%.2f", Results.median(rates(list)) / plain), cut + "/" + list.size(),
						incomplete + "/" + list.size(), String.valueOf(duplicates), pauses,
						Results.spread(list.stream().map(Run::cpuMicros).toList(), "%.1f"),
						Results.spread(list.stream().map(Run::switches).toList(), "%.2f")));
			}
		});
		results.table(List.of("limit, deflate", "server", "delivered msg/s, median (min–max)", "ratio to plain Spring",
				"runs with a client closed", "runs incomplete", "messages received twice", "sender paused (resilient-ws), times per run",
				"server CPU µs/msg", "server context switches/msg"), rows);
		results.write();
	}

	private static List<Double> rates(List<Run> runs) {
		return runs.stream().map(Run::rate).toList();
	}

}
