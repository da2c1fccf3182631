package io.resilientws.benchmarks.driver;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A {@code redis-server} of the scenario's own on a random loopback port, with no persistence: the
 * cluster scenario's broker, for the starter's instances and Socket.IO's alike.
 */
public final class RedisProcess implements AutoCloseable {

	private final int port;

	private final Process process;

	private RedisProcess(int port, Process process) {
		this.port = port;
		this.process = process;
	}

	/** Starts the server and waits until it answers PING. */
	public static RedisProcess start() {
		try {
			int port;
			try (ServerSocket probe = new ServerSocket(0)) {
				port = probe.getLocalPort();
			}
			File log = Env.logsDir().resolve("redis-" + port + ".log").toFile();
			Process process = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
					"--save", "", "--appendonly", "no", "--protected-mode", "no")
				.redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.appendTo(log))
				.start();
			RedisProcess redis = new RedisProcess(port, process);
			long deadline = System.nanoTime() + 20_000_000_000L;
			while (!redis.ping()) {
				if (!process.isAlive() || System.nanoTime() > deadline) {
					redis.close();
					throw new IllegalStateException("redis-server did not start; see " + log);
				}
				ServerProcess.sleep(50);
			}
			return redis;
		}
		catch (IOException ex) {
			throw new IllegalStateException("Could not start redis-server (Debian: apt-get install redis-server)", ex);
		}
	}

	public int port() {
		return this.port;
	}

	/** The server's CPU time and context switches so far (what the journal costs Redis). */
	public ProcessCost cost() {
		return ProcessCost.of(this.process.pid());
	}

	/**
	 * Calls of a script by its SHA-1 so far ({@code INFO commandstats}, {@code cmdstat_evalsha}): the
	 * round trips the starter's journal costs, whatever each script runs; -1 if unknown.
	 */
	public long scriptCalls() {
		try {
			Process cli = new ProcessBuilder(List.of("redis-cli", "-p", Integer.toString(this.port), "INFO", "commandstats"))
				.redirectErrorStream(true)
				.start();
			try (InputStream out = cli.getInputStream()) {
				for (String line : new String(out.readAllBytes(), StandardCharsets.UTF_8).split("\\r?\\n")) {
					if (line.startsWith("cmdstat_evalsha:calls=")) {
						return Long.parseLong(line.substring("cmdstat_evalsha:calls=".length(), line.indexOf(',')));
					}
				}
			}
			return 0;
		}
		catch (IOException | NumberFormatException ex) {
			return -1;
		}
	}

	private boolean ping() {
		try {
			Process cli = new ProcessBuilder(List.of("redis-cli", "-p", Integer.toString(this.port), "PING"))
				.redirectErrorStream(true)
				.start();
			try (InputStream out = cli.getInputStream()) {
				return new String(out.readAllBytes(), StandardCharsets.UTF_8).trim().equals("PONG");
			}
		}
		catch (IOException ex) {
			return false;
		}
	}

	@Override
	public void close() {
		this.process.destroyForcibly();
	}

}
