package io.resilientws.testsupport;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A real {@code redis-server} process of the test's own, on a random loopback port, with no
 * persistence unless asked: never a shared system Redis. It can be stopped (SIGKILL, like a crash) and
 * started again on the same port, with its data gone — or kept, with {@link #startPersistent()}.
 * <p>
 * Without {@code redis-server} on the PATH the calling test is skipped with a loud message, and fails
 * when {@code CI=true} (CI installs Debian's redis-server).
 */
public final class RedisServer implements AutoCloseable {

	private final int port;

	private final Path directory;

	private final boolean persistent;

	private volatile Process process;

	private RedisServer(int port, Path directory, boolean persistent) {
		this.port = port;
		this.directory = directory;
		this.persistent = persistent;
	}

	/** Starts a server with no persistence: a restart loses every key. */
	public static RedisServer start() {
		return start(false);
	}

	/** Starts a server that saves its data on stop, so that a restart keeps it. */
	public static RedisServer startPersistent() {
		return start(true);
	}

	private static RedisServer start(boolean persistent) {
		assumeRedisAvailable();
		try {
			RedisServer server = new RedisServer(freePort(), Files.createTempDirectory("redis-test"), persistent);
			server.restart();
			return server;
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	public int port() {
		return this.port;
	}

	/** Kills the server at once (no save, no goodbye to clients): the same as a crash. */
	public void kill() {
		Process running = this.process;
		if (running != null && running.isAlive()) {
			if (this.persistent) {
				command("SAVE");
			}
			running.destroyForcibly();
			try {
				running.waitFor(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	/** Stops the server's process (SIGSTOP): it keeps its connections and answers nothing until {@link #unpause}. */
	public void pause() {
		signal("-STOP");
	}

	/** Lets a paused server go on (SIGCONT): it answers what it was sent meanwhile. */
	public void unpause() {
		signal("-CONT");
	}

	private void signal(String signal) {
		try {
			// bash's own kill: no procps needed.
			Process kill = new ProcessBuilder("bash", "-c", "kill " + signal + " " + this.process.pid()).inheritIO()
				.start();
			if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
				throw new IllegalStateException("kill " + signal + " of redis-server failed");
			}
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/** Starts the server (again) on the same port, and waits until it answers. */
	public void restart() {
		try {
			List<String> command = List.of("redis-server", "--port", Integer.toString(this.port), "--bind", "127.0.0.1",
					"--dir", this.directory.toString(), "--save", this.persistent ? "3600 1" : "", "--appendonly", "no",
					"--dbfilename", "dump.rdb", "--protected-mode", "no");
			this.process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(new File(this.directory.toFile(), "redis.log"))
				.start();
			await().atMost(Duration.ofSeconds(20)).until(() -> "PONG".equals(command("PING")));
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/** Sends one command (words without spaces) and returns the first line of the answer, without its type byte. */
	public String command(String... words) {
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(5000);
			StringBuilder request = new StringBuilder("*").append(words.length).append("\r\n");
			for (String word : words) {
				request.append('$').append(word.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(word).append("\r\n");
			}
			OutputStream out = socket.getOutputStream();
			out.write(request.toString().getBytes(StandardCharsets.UTF_8));
			out.flush();
			BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
			String line = in.readLine();
			if (line != null && line.startsWith("$") && !line.equals("$-1")) {
				return in.readLine();
			}
			return (line == null || line.equals("$-1")) ? null : line.substring(1);
		}
		catch (IOException ex) {
			return "ERR " + ex.getMessage();
		}
	}

	/** How many clients are subscribed to {@code channel} ({@code PUBSUB NUMSUB}). */
	public long subscribers(String channel) {
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(5000);
			byte[] name = channel.getBytes(StandardCharsets.UTF_8);
			String request = "*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n$" + name.length + "\r\n" + channel + "\r\n";
			socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
			BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
			in.readLine(); // *2
			in.readLine(); // $length
			in.readLine(); // the channel
			String count = in.readLine(); // :count
			return (count != null && count.startsWith(":")) ? Long.parseLong(count.substring(1)) : -1;
		}
		catch (IOException ex) {
			return -1;
		}
	}

	@Override
	public void close() {
		Process running = this.process;
		if (running != null) {
			running.destroyForcibly();
		}
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

	/** Skips (loudly) or, under {@code CI=true}, fails the calling test when redis-server is not on the PATH. */
	public static void assumeRedisAvailable() {
		if (onPath("redis-server")) {
			return;
		}
		String message = "redis-server is not on the PATH. Install it (Debian: apt-get install redis-server)";
		MissingPrerequisite.skipOrFail("the cluster tests against a real Redis", message);
	}

	private static boolean onPath(String program) {
		String path = System.getenv("PATH");
		if (path == null) {
			return false;
		}
		for (String directory : path.split(File.pathSeparator)) {
			if (Files.isExecutable(Path.of(directory, program))) {
				return true;
			}
		}
		return false;
	}

}
