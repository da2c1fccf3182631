package io.resilientws.testsupport;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What a test does when something it needs from outside Maven (Node.js, redis-server) is missing:
 * skipped with a banner on the first such test of a kind, or failed when the environment variable
 * {@code CI} is {@code true}, so CI never passes by skipping.
 */
public final class MissingPrerequisite {

	private static final Set<String> warned = ConcurrentHashMap.newKeySet();

	private MissingPrerequisite() {
	}

	/**
	 * Fails (under CI) or skips the calling test.
	 * @param tests what is skipped, e.g. "the tests against Node.js peers"
	 * @param message what is missing and how to install it
	 */
	public static void skipOrFail(String tests, String message) {
		if ("true".equalsIgnoreCase(System.getenv("CI"))) {
			Assertions.fail(message);
		}
		if (warned.add(tests)) {
			System.err.println();
			System.err.println("*".repeat(100));
			System.err.println("* SKIPPING " + tests + ": " + message);
			System.err.println("*".repeat(100));
			System.err.println();
		}
		Assumptions.abort(message);
	}

}
