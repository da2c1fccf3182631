package io.resilientws.peers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.resilientws.testsupport.NodePeer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the browser client's own tests ({@code node --test} in {@code src/test/node}: resilient-ws.js
 * against a real {@code ws} server), so that {@code ./mvnw verify} fails when they fail.
 */
class BrowserClientNodeTest {

	private static final Pattern COUNT = Pattern.compile("^# (pass|fail) (\\d+)$", Pattern.MULTILINE);

	@BeforeEach
	void nodeAvailable() {
		NodePeer.assumeNodeAvailable();
	}

	@Test
	void nodeTestSuitePasses() throws IOException, InterruptedException {
		Process node = new ProcessBuilder("node", "--test", "--test-reporter=tap")
			.directory(NodePeer.PROJECT.toFile())
			.redirectErrorStream(true)
			.start();
		// Read while it runs, so a full pipe can never stall it.
		CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
			try {
				return new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			}
			catch (IOException ex) {
				return "(output unreadable: " + ex + ")";
			}
		});
		boolean finished = node.waitFor(3, TimeUnit.MINUTES);
		if (!finished) {
			node.destroyForcibly();
		}
		String report = output.join();
		System.out.println("---- node --test (src/test/node) ----");
		System.out.println(report);
		System.out.println("---- end of node --test ----");
		assertThat(finished).as("node --test finished within 3 minutes").isTrue();
		assertThat(node.exitValue()).as("exit code of node --test; its output is above").isZero();
		assertThat(count("pass", report)).as("tests that passed").isPositive();
		assertThat(count("fail", report)).as("tests that failed").isZero();
	}

	private static int count(String kind, String report) {
		Matcher matcher = COUNT.matcher(report);
		while (matcher.find()) {
			if (matcher.group(1).equals(kind)) {
				return Integer.parseInt(matcher.group(2));
			}
		}
		return -1;
	}

}
