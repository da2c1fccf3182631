package io.resilientws.benchmarks.driver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where things are: the benchmarks module, its logs, the results and plots written into docs/. */
public final class Env {

	private Env() {
	}

	/** {@code benchmarks/} (run.sh runs from the repository root and passes it as {@code bench.dir}). */
	public static Path benchmarksDir() {
		return Path.of(System.getProperty("bench.dir", "benchmarks")).toAbsolutePath();
	}

	public static Path logsDir() {
		return mkdirs(benchmarksDir().resolve("target/logs"));
	}

	/** {@code docs/benchmarks/}: plots and the raw result tables BENCHMARKS.md quotes. */
	public static Path docsDir() {
		return mkdirs(benchmarksDir().getParent().resolve("docs/benchmarks"));
	}

	static Path mkdirs(Path dir) {
		try {
			return Files.createDirectories(dir);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
