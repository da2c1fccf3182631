package io.resilientws.sample;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;

/**
 * The sample as users run it: {@code java -jar sample-app-*.jar} in a JVM of its own, so that a test
 * can stop it with SIGTERM or kill it with SIGKILL. Its output goes to a file under
 * {@code target/} (named after the port), which a failing test can point at.
 */
final class SampleJar implements AutoCloseable {

	private static final Duration STARTUP = Duration.ofSeconds(60);

	private final Process process;

	private final int port;

	private final Path log;

	private SampleJar(Process process, int port, Path log) {
		this.process = process;
		this.port = port;
		this.log = log;
	}

	/** The jar that {@code package} built; the failsafe configuration passes its path. */
	static Path jar() {
		String path = System.getProperty("sample.jar");
		if (path == null) {
			throw new IllegalStateException("System property sample.jar is not set: run this test with "
					+ "./mvnw verify (failsafe sets it to the repackaged jar)");
		}
		return Path.of(path);
	}

	/** Starts the jar on a free port with the given extra arguments and waits until it is ready. */
	static SampleJar start(String... arguments) {
		int port = FreePort.find();
		List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx256m", "-jar", jar().toString(),
				"--server.port=" + port, "--server.address=127.0.0.1"));
		command.addAll(List.of(arguments));
		try {
			Path log = Files.createTempFile(Path.of("target"), "sample-" + port + "-", ".log");
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(log.toFile())
				.start();
			SampleJar sample = new SampleJar(process, port, log);
			try {
				sample.awaitReady();
			}
			catch (RuntimeException ex) {
				// Nobody holds it to close it: a jar left running after its test loads the machine for the next.
				sample.close();
				throw ex;
			}
			return sample;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	int port() {
		return this.port;
	}

	URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

	String log() {
		try {
			return Files.readString(this.log);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	Process process() {
		return this.process;
	}

	/** SIGTERM, as a process manager stops the application; waits for the exit. */
	int stop() throws InterruptedException {
		this.process.destroy();
		return this.process.waitFor();
	}

	/** SIGKILL, as a crash or the OOM killer ends it: no shutdown hook runs. Waits for the exit. */
	void kill() throws InterruptedException {
		this.process.destroyForcibly();
		this.process.waitFor();
	}

	/** The body of a GET on this instance, or the exception's text if it does not answer. */
	String get(String path) {
		try {
			return HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString())
				.body();
		}
		catch (IOException ex) {
			return ex.toString();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	private void awaitReady() {
		HttpClient http = HttpClient.newHttpClient();
		HttpRequest health = HttpRequest.newBuilder(uri("/actuator/health/readiness")).build();
		await().atMost(STARTUP).pollInterval(Duration.ofMillis(200)).until(() -> {
			if (!this.process.isAlive()) {
				throw new IllegalStateException("The sample exited with " + this.process.exitValue() + ":\n" + log());
			}
			try {
				return http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
			}
			catch (IOException notYet) {
				return false;
			}
		});
	}

	@Override
	public void close() {
		this.process.destroyForcibly();
	}

	private static String javaBinary() {
		return Path.of(System.getProperty("java.home"), "bin", "java" + (File.separatorChar == '\\' ? ".exe" : ""))
			.toString();
	}

}
