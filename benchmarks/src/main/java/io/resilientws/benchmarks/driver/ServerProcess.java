package io.resilientws.benchmarks.driver;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.json.JsonMapper;

/**
 * A server under test in its own process: the Spring Boot bench app (plain or with the starter) in a
 * child JVM, or the Node {@code ws} reference server. Each process's output goes to a log file under
 * {@code benchmarks/target/logs}.
 */
public final class ServerProcess implements AutoCloseable {

	/** The kinds of server the scenarios compare. */
	public enum Kind {

		/** Plain Spring WebSocket on Tomcat: {@code resilient-ws.server.enabled=false}. */
		PLAIN,
		/** The same app with every session managed by resilient-ws. */
		STARTER,
		/** The Node {@code ws} reference server. */
		NODE,
		/** Socket.IO 4 with {@code @socket.io/redis-adapter}: the cluster scenario's baseline. */
		SOCKETIO;

		public String label() {
			return switch (this) {
				case PLAIN -> "plain Spring";
				case STARTER -> "resilient-ws";
				case NODE -> "Node ws";
				case SOCKETIO -> "Socket.IO + redis-adapter";
			};
		}

	}

	static final JsonMapper JSON = JsonMapper.builder().build();

	private static final HttpClient HTTP = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(2))
		.build();

	private final Kind kind;

	private final int port;

	private final Process process;

	private ServerProcess(Kind kind, int port, Process process) {
		this.kind = kind;
		this.port = port;
		this.process = process;
	}

	/**
	 * Starts a server and waits until its control endpoint answers.
	 * @param extra extra {@code --property=value} arguments (Spring) or flags (Node)
	 */
	public static ServerProcess start(Kind kind, int port, String heap, List<String> extra) {
		List<String> command = new ArrayList<>();
		if (kind == Kind.NODE || kind == Kind.SOCKETIO) {
			String script = (kind == Kind.NODE) ? "node/server.js" : "node/socketio-server.js";
			command.addAll(List.of("node", "--expose-gc", Env.benchmarksDir().resolve(script).toString(),
					"--port=" + port));
			command.addAll(extra);
		}
		else {
			command.addAll(List.of(javaBin(), "-Xms" + heap, "-Xmx" + heap, "-XX:+UseG1GC"));
			// e.g. -Dbench.server.jvm=-XX:StartFlightRecording=... to profile the server under test
			String jvm = System.getProperty("bench.server.jvm", "").trim();
			if (!jvm.isEmpty()) {
				command.addAll(List.of(jvm.split("\\s+")));
			}
			command.addAll(List.of("-cp",
					System.getProperty("java.class.path"), "io.resilientws.benchmarks.server.BenchServerApp",
					"--server.port=" + port, "--server.address=127.0.0.1", "--server.tomcat.max-connections=20000",
					"--spring.main.banner-mode=off"));
			if (kind == Kind.PLAIN) {
				command.add("--resilient-ws.server.enabled=false");
			}
			command.addAll(extra);
		}
		try {
			File log = Env.logsDir().resolve(kind.name().toLowerCase() + "-" + port + "-" + System.currentTimeMillis() + ".log")
				.toFile();
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.appendTo(log))
				.start();
			ServerProcess server = new ServerProcess(kind, port, process);
			try {
				server.awaitReady(Duration.ofSeconds(90));
			}
			catch (RuntimeException ex) {
				server.kill();
				throw ex;
			}
			return server;
		}
		catch (IOException ex) {
			throw new IllegalStateException("Could not start " + command, ex);
		}
	}

	private static String javaBin() {
		return Path.of(System.getProperty("java.home"), "bin", "java").toString();
	}

	public Kind kind() {
		return this.kind;
	}

	public int port() {
		return this.port;
	}

	public long pid() {
		return this.process.pid();
	}

	public URI wsUri() {
		return uri("/ws");
	}

	/** A WebSocket address on this server, e.g. {@code /socket.io/?EIO=4&transport=websocket}. */
	public URI uri(String pathAndQuery) {
		return URI.create("ws://127.0.0.1:" + this.port + pathAndQuery);
	}

	/** Polls the control endpoint until it answers; returns how long that took. */
	public Duration awaitReady(Duration limit) {
		long start = System.nanoTime();
		long deadline = start + limit.toNanos();
		while (System.nanoTime() < deadline) {
			if (!this.process.isAlive()) {
				throw new IllegalStateException(this.kind + " server exited with " + this.process.exitValue());
			}
			try {
				stats(false);
				return Duration.ofNanos(System.nanoTime() - start);
			}
			catch (RuntimeException notYet) {
				sleep(50);
			}
		}
		throw new IllegalStateException(this.kind + " server not ready within " + limit);
	}

	/** heapUsed, cpuNanos, sessions, threads; after full GCs when {@code gc}. */
	public Map<String, Object> stats(boolean gc) {
		return JSON.readValue(get("/control/stats?gc=" + gc), Map.class);
	}

	@SuppressWarnings("unchecked")
	public List<Map<String, Object>> closes() {
		return JSON.readValue(get("/control/closes"), List.class);
	}

	/** Runs a paced broadcast on the server; returns its summary when the last broadcast was handed over. */
	public Map<String, Object> broadcast(int count, double rate, int size) {
		return JSON.readValue(send(HttpRequest.newBuilder(control("/control/broadcast?count=" + count + "&rate=" + rate
				+ "&size=" + size)).POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofMinutes(5)).build()),
				Map.class);
	}

	private String get(String path) {
		return send(HttpRequest.newBuilder(control(path)).timeout(Duration.ofSeconds(60)).build());
	}

	private URI control(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

	private static String send(HttpRequest request) {
		try {
			HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
			if (response.statusCode() != 200) {
				throw new IllegalStateException(request.uri() + " answered " + response.statusCode());
			}
			return response.body();
		}
		catch (IOException ex) {
			throw new IllegalStateException(request.uri() + ": " + ex, ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/** Kills the process at once (SIGKILL): a crash, as the reconnect storm wants. */
	public void kill() {
		this.process.destroyForcibly();
		waitFor();
	}

	@Override
	public void close() {
		this.process.destroy();
		waitFor();
	}

	private void waitFor() {
		try {
			if (!this.process.waitFor(java.util.concurrent.TimeUnit.SECONDS.toMillis(30), java.util.concurrent.TimeUnit.MILLISECONDS)) {
				this.process.destroyForcibly().waitFor();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
