package io.resilientws.benchmarks.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

import io.resilientws.benchmarks.driver.Env;

/** Medians and spreads over repeated runs, and the markdown tables a scenario writes for docs/. */
public final class Results {

	private final String scenario;

	private final StringBuilder text = new StringBuilder();

	public Results(String scenario, String command) {
		this.scenario = scenario;
		this.text.append("# ").append(scenario).append("\n\n")
			.append("Written by the benchmark at ").append(Instant.now()).append(" — `").append(command).append("`\n\n")
			.append("Machine: ").append(machine()).append("\n\n");
	}

	public static String machine() {
		return Runtime.getRuntime().availableProcessors() + " CPUs, " + memTotal() + ", Java "
				+ System.getProperty("java.vm.version") + " (" + System.getProperty("java.vm.name") + "), load average "
				+ loadAverage();
	}

	public static String loadAverage() {
		try {
			String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
			return parts[0] + " " + parts[1] + " " + parts[2];
		}
		catch (IOException ex) {
			return "unknown";
		}
	}

	private static String memTotal() {
		try {
			for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
				if (line.startsWith("MemTotal:")) {
					long kb = Long.parseLong(line.replaceAll("\\D", ""));
					return String.format(Locale.ROOT, "%.1f GiB RAM", kb / 1024.0 / 1024.0);
				}
			}
		}
		catch (IOException ex) {
			// fall through
		}
		return "unknown RAM";
	}

	public Results line(String line) {
		this.text.append(line).append("\n");
		return this;
	}

	public Results table(List<String> header, List<List<String>> rows) {
		this.text.append("| ").append(String.join(" | ", header)).append(" |\n|");
		header.forEach((h) -> this.text.append("---|"));
		this.text.append("\n");
		for (List<String> row : rows) {
			this.text.append("| ").append(String.join(" | ", row)).append(" |\n");
		}
		this.text.append("\n");
		return this;
	}

	/** Writes {@code docs/benchmarks/<scenario>.md} and echoes it to the console. */
	public Path write() {
		Path file = Env.docsDir().resolve(this.scenario + ".md");
		try {
			Files.writeString(file, this.text);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		System.out.println(this.text);
		System.out.println("Wrote " + file);
		return file;
	}

	public static double median(List<Double> values) {
		List<Double> sorted = new ArrayList<>(values);
		Collections.sort(sorted);
		int n = sorted.size();
		if (n == 0) {
			return Double.NaN;
		}
		return (n % 2 == 1) ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
	}

	public static double min(List<Double> values) {
		return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
	}

	public static double max(List<Double> values) {
		return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
	}

	/** "median (min–max)" with the given number format. */
	public static String spread(List<Double> values, String format) {
		if (values.size() == 1) {
			return String.format(Locale.ROOT, format, values.get(0));
		}
		return String.format(Locale.ROOT, format + " (" + format + "–" + format + ")", median(values), min(values),
				max(values));
	}

	public static String fmt(String format, Object... args) {
		return String.format(Locale.ROOT, format, args);
	}

}
