package io.resilientws.benchmarks.scenario;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.resilientws.benchmarks.driver.ServerProcess;
import io.resilientws.benchmarks.driver.ServerProcess.Kind;
import io.resilientws.benchmarks.driver.StalledClient;
import io.resilientws.benchmarks.report.Results;

import static io.resilientws.benchmarks.report.Results.fmt;

/**
 * Issue 10, item 3: one client sends the application-level ping ({@code __rws_ping__}) as fast as it
 * can and never reads. What that one session costs the server: its heap after a full GC (what is
 * retained, sampled every 2 s during the flood) and its resident set size, before, at the peak and
 * after, and when the server ends the session. Bounded by {@code --seconds} (20).
 */
public final class FloodScenario {

	private static final int PORT = 18086;

	private final Duration length;

	private final String heap;

	private final List<String> serverProperties;

	public FloodScenario(Map<String, String> options) {
		this.length = Duration.ofSeconds(Long.parseLong(options.getOrDefault("seconds", "20")));
		this.heap = options.getOrDefault("heap", "1g");
		// e.g. --server=--resilient-ws.server.send.time-limit=1m to watch the flood for longer
		this.serverProperties = options.containsKey("server") ? List.of(options.get("server").split(","))
				: List.of();
	}

	public void run() {
		String loadBefore = Results.loadAverage();
		try (ServerProcess server = ServerProcess.start(Kind.STARTER, PORT, this.heap, this.serverProperties);
				StalledClient client = StalledClient.connect(server.wsUri())) {
			awaitSessions(server, 1);
			long heapBefore = heapAfterGc(server);
			long rssBefore = rss(server.pid());
			long started = System.nanoTime();
			CompletableFuture<Long> flood = CompletableFuture.supplyAsync(() -> client.flood("__rws_ping__", this.length));
			long heapPeak = heapBefore;
			long rssPeak = rssBefore;
			double endedAt = -1;
			long nextGcSample = started;
			while (!flood.isDone()) {
				long now = System.nanoTime();
				if (now >= nextGcSample) {
					heapPeak = Math.max(heapPeak, heapAfterGc(server));
					nextGcSample = now + Duration.ofSeconds(2).toNanos();
				}
				rssPeak = Math.max(rssPeak, rss(server.pid()));
				if (endedAt < 0 && ((Number) server.stats(false).get("sessions")).intValue() == 0) {
					endedAt = (System.nanoTime() - started) / 1e9;
				}
				sleep(250);
			}
			long frames = flood.join();
			double seconds = (System.nanoTime() - started) / 1e9;
			if (endedAt < 0 && ((Number) server.stats(false).get("sessions")).intValue() == 0) {
				endedAt = seconds;
			}
			long heapAfter = heapAfterGc(server);
			long rssAfter = rss(server.pid());
			System.out.println(fmt("flood: %,d pings in %.1f s (%,.0f/s); session %s", frames, seconds, frames / seconds,
					(endedAt < 0) ? "still open at the end" : fmt("gone after %.1f s", endedAt)));
			System.out.println(fmt("heap after GC: before %.1f MiB, peak %.1f MiB (+%.1f), after %.1f MiB", mib(heapBefore),
					mib(heapPeak), mib(heapPeak - heapBefore), mib(heapAfter)));
			System.out.println(fmt("RSS: before %.1f MiB, peak %.1f MiB (+%.1f), after %.1f MiB", mib(rssBefore),
					mib(rssPeak), mib(rssPeak - rssBefore), mib(rssAfter)));
			System.out.println("load average before: " + loadBefore + ", after: " + Results.loadAverage());
		}
	}

	private static long heapAfterGc(ServerProcess server) {
		return ((Number) server.stats(true).get("heapUsed")).longValue();
	}

	private static void awaitSessions(ServerProcess server, int count) {
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (((Number) server.stats(false).get("sessions")).intValue() != count) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("session did not open");
			}
			sleep(20);
		}
	}

	/** The resident set size of a process, from /proc (Linux). */
	private static long rss(long pid) {
		try {
			for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
				if (line.startsWith("VmRSS:")) {
					return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
				}
			}
			return -1;
		}
		catch (IOException ex) {
			return -1;
		}
	}

	private static double mib(long bytes) {
		return bytes / (1024.0 * 1024.0);
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
