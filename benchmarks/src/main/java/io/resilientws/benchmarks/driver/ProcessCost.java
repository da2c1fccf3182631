package io.resilientws.benchmarks.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What a process has spent so far, from {@code /proc}: CPU time (user + system) and context switches
 * (voluntary and involuntary, summed over its threads). Works for any server process, Java or Node.
 * Context switches count thread hand-offs: a server that passes every message to another thread shows
 * about one per message, one that works on the thread that read it almost none.
 */
public record ProcessCost(long cpuTicks, long contextSwitches) {

	/** A tick of {@code /proc/<pid>/stat}'s CPU times (USER_HZ is 100 on Linux). */
	static final double MICROS_PER_TICK = 10_000;

	/** Now, for {@code pid}; zeros where there is no {@code /proc} (not Linux) or the process ended. */
	public static ProcessCost of(long pid) {
		Path proc = Path.of("/proc/" + pid);
		try {
			return new ProcessCost(cpuTicks(Files.readString(proc.resolve("stat"))), contextSwitches(proc));
		}
		catch (IOException | RuntimeException ex) {
			return new ProcessCost(0, 0);
		}
	}

	/** User + system CPU ticks in a {@code /proc/<pid>/stat} or {@code /proc/<pid>/task/<tid>/stat} line. */
	static long cpuTicks(String stat) {
		// The name is in parentheses and may contain spaces: fields are counted after it.
		String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
		return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
	}

	private static long contextSwitches(Path proc) throws IOException {
		long switches = 0;
		try (Stream<Path> tasks = Files.list(proc.resolve("task"))) {
			for (Path task : (Iterable<Path>) tasks::iterator) {
				try {
					for (String line : Files.readAllLines(task.resolve("status"))) {
						if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
							switches += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
						}
					}
				}
				catch (IOException | RuntimeException threadEnded) {
					// Gone between listing and reading: its switches are lost to both readings alike.
				}
			}
		}
		return switches;
	}

	/** CPU microseconds per message spent since {@code earlier}. */
	public double cpuMicrosPerMessage(ProcessCost earlier, long messages) {
		return (messages > 0) ? (this.cpuTicks - earlier.cpuTicks) * MICROS_PER_TICK / messages : Double.NaN;
	}

	/** Context switches per message since {@code earlier}. */
	public double switchesPerMessage(ProcessCost earlier, long messages) {
		return (messages > 0) ? (double) (this.contextSwitches - earlier.contextSwitches) / messages : Double.NaN;
	}

}
