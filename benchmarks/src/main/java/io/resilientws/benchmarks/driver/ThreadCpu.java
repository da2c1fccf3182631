package io.resilientws.benchmarks.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * CPU time of a process by thread group, from {@code /proc/<pid>/task/*}: a profile that needs no
 * agent. Thread names are grouped with their numbers removed ({@code http-nio-8080-exec-7} and
 * {@code -exec-9} are one group).
 */
public final class ThreadCpu {

	private final Map<String, Long> ticksByTask;

	private ThreadCpu(Map<String, Long> ticksByTask) {
		this.ticksByTask = ticksByTask;
	}

	/** CPU ticks (user + system, 10 ms each) of every thread of {@code pid} now, by "tid name". */
	public static ThreadCpu of(long pid) {
		Map<String, Long> ticks = new HashMap<>();
		try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
			tasks.forEach((task) -> {
				try {
					String stat = Files.readString(task.resolve("stat"));
					String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
					ticks.put(task.getFileName() + " " + name, ProcessCost.cpuTicks(stat));
				}
				catch (IOException | RuntimeException threadEnded) {
					// Gone between listing and reading.
				}
			});
		}
		catch (IOException ex) {
			// No /proc (not Linux): no profile.
		}
		return new ThreadCpu(ticks);
	}

	/** Ticks used since {@code earlier}, by thread group, largest first. */
	public Map<String, Long> since(ThreadCpu earlier) {
		Map<String, Long> groups = new HashMap<>();
		this.ticksByTask.forEach((task, ticks) -> {
			long used = ticks - earlier.ticksByTask.getOrDefault(task, 0L);
			String group = task.substring(task.indexOf(' ') + 1).replaceAll("[0-9]+", "#");
			groups.merge(group, used, Long::sum);
		});
		Map<String, Long> sorted = new LinkedHashMap<>();
		groups.entrySet().stream().filter((e) -> e.getValue() > 0)
			.sorted(Map.Entry.<String, Long>comparingByValue().reversed())
			.forEach((e) -> sorted.put(e.getKey(), e.getValue()));
		return sorted;
	}

	/** The {@code top} thread groups by CPU since {@code earlier}, each with its µs per message. */
	public String perMessage(ThreadCpu earlier, long messages, int top) {
		return since(earlier).entrySet().stream().limit(top)
			.map((group) -> String.format(Locale.ROOT, "%s %.1f", group.getKey(),
					group.getValue() * ProcessCost.MICROS_PER_TICK / Math.max(1, messages)))
			.collect(Collectors.joining(", "));
	}

}
