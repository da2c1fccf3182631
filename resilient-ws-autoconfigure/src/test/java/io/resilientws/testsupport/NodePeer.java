package io.resilientws.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.function.Supplier;
import java.util.regex.Pattern;


import org.springframework.util.function.SingletonSupplier;

import static org.awaitility.Awaitility.await;

/**
 * A Node.js {@code ws} server ({@code src/test/node/ws-server.mjs}) run as a child process: a real peer
 * written by other people than the client under test.
 * <p>
 * The process prints one line per event ({@code listening <port>}, {@code open <id> protocol=<p>},
 * {@code ping <id>}, {@code textping <id>}, {@code message <id> <text>}, {@code close <id> <code> <reason>}),
 * collected in {@link #output()}. It exits when its standard input closes, so it never outlives the JVM.
 * <p>
 * Tests call {@link #assumeNodeAvailable()} first: without {@code node} or without the npm packages
 * they are skipped with a loud message, or fail when {@code CI=true}.
 */
public final class NodePeer implements AutoCloseable {

	/** The Node project, relative to the module (Surefire's working directory). */
	public static final Path PROJECT = Path.of("src", "test", "node").toAbsolutePath();

	private static final String INSTALL = "cd resilient-ws-autoconfigure/src/test/node && npm ci";

	private static final Pattern LISTENING = Pattern.compile("listening (\\d+)");

	private static final Pattern NODE_VERSION = Pattern.compile("v(\\d+)\\.(\\d+)\\..*");

	private final Process process;

	private final List<String> output = new CopyOnWriteArrayList<>();

	private final int port;

	private static final Pattern OPEN = Pattern.compile("open()");

	/** Lines that say the peer is ready: {@code listening <port>} for a server, {@code open} for a client. */
	private final Pattern ready;

	private NodePeer(String script, List<String> arguments, Pattern ready) {
		this.ready = ready;
		List<String> command = new ArrayList<>(List.of("node", script));
		command.addAll(arguments);
		try {
			this.process = new ProcessBuilder(command).directory(PROJECT.toFile()).redirectErrorStream(true).start();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not start " + command, ex);
		}
		Thread reader = new Thread(this::readOutput, "node-peer-output");
		reader.setDaemon(true);
		reader.start();
		try {
			this.port = await().atMost(Duration.ofSeconds(15))
				.until(this::listeningPort, Optional::isPresent)
				.orElseThrow();
		}
		catch (RuntimeException ex) {
			close();
			throw new IllegalStateException("Node peer did not get ready; its output: " + this.output, ex);
		}
	}

	/**
	 * Starts {@code node ws-server.mjs} with these arguments ({@code --protocols a,b}, {@code --no-pong})
	 * and waits until it listens.
	 */
	public static NodePeer start(String... arguments) {
		return new NodePeer("ws-server.mjs", List.of(arguments), LISTENING);
	}

	/**
	 * Starts {@code node ws-client.mjs <url>} with these options ({@code --no-pong}, {@code --pause},
	 * {@code --app-ping}) and waits until it is connected.
	 */
	public static NodePeer client(String url, String... options) {
		List<String> arguments = new ArrayList<>(List.of(url));
		arguments.addAll(List.of(options));
		return new NodePeer("ws-client.mjs", arguments, OPEN);
	}

	/** Starts {@code node <script> <arguments>}, a client script, and waits until it prints {@code open}. */
	public static NodePeer clientScript(String script, String... arguments) {
		return new NodePeer(script, List.of(arguments), OPEN);
	}

	/**
	 * Skips the calling test, loudly, when Node.js (20.19 or later) or the npm packages are missing; fails
	 * it instead when the environment variable {@code CI} is {@code true}, so CI never passes by skipping.
	 */
	public static void assumeNodeAvailable() {
		String problem = PREREQUISITE.get();
		if (problem.isEmpty()) {
			return;
		}
		String message = problem + ". Install the Node test peers with: " + INSTALL
				+ " (needs Node.js 20.19+ and npm; the Maven build runs npm ci itself when npm is on the PATH)";
		MissingPrerequisite.skipOrFail("the tests against Node.js peers", message);
	}

	/** What is missing to run Node peers, "" if nothing; looked up once per JVM. */
	private static final Supplier<String> PREREQUISITE = SingletonSupplier.of(NodePeer::missingPrerequisite);

	private static String missingPrerequisite() {
		String version;
		try {
			Process node = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
			version = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
			if (!node.waitFor(30, TimeUnit.SECONDS) || node.exitValue() != 0) {
				return "'node --version' failed: " + version;
			}
		}
		catch (IOException ex) {
			return "Node.js is not installed ('node' is not on the PATH)";
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return "interrupted while looking for Node.js";
		}
		Matcher matcher = NODE_VERSION.matcher(version);
		if (!matcher.matches()) {
			return "'node --version' printed '" + version + "'";
		}
		int major = Integer.parseInt(matcher.group(1));
		int minor = Integer.parseInt(matcher.group(2));
		// 20.19 loads resilient-ws.js, an ES module outside any package.json, without flags.
		if (major < 20 || (major == 20 && minor < 19)) {
			return "Node.js " + version + " is too old (20.19 or later is needed)";
		}
		if (!Files.isRegularFile(PROJECT.resolve("node_modules/ws/package.json"))) {
			return "the npm packages are not installed (" + PROJECT.resolve("node_modules") + " has no 'ws')";
		}
		return "";
	}

	/** The port the server listens on, on 127.0.0.1. */
	public int port() {
		return this.port;
	}

	public String url() {
		return "ws://127.0.0.1:" + this.port + "/";
	}

	/** Every line the server printed so far. Live view. */
	public List<String> output() {
		return Collections.unmodifiableList(this.output);
	}

	/** The lines that start with {@code prefix + " "}. */
	public List<String> lines(String prefix) {
		return this.output.stream().filter((line) -> line.startsWith(prefix + " ")).toList();
	}

	@Override
	public void close() {
		this.process.destroy();
		try {
			if (!this.process.waitFor(5, TimeUnit.SECONDS)) {
				this.process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private Optional<Integer> listeningPort() {
		if (!this.process.isAlive() && this.output.stream().noneMatch((line) -> this.ready.matcher(line).matches())) {
			throw new IllegalStateException("Node peer exited with " + this.process.exitValue());
		}
		return this.output.stream()
			.map(this.ready::matcher)
			.filter(Matcher::matches)
			.map((matcher) -> matcher.group(1).isEmpty() ? 0 : Integer.parseInt(matcher.group(1)))
			.findFirst();
	}

	private void readOutput() {
		try (BufferedReader reader = new BufferedReader(
				new InputStreamReader(this.process.getInputStream(), StandardCharsets.UTF_8))) {
			String line;
			while ((line = reader.readLine()) != null) {
				this.output.add(line);
			}
		}
		catch (IOException ex) {
			// The process was destroyed: nothing more to read.
		}
	}

}
