package io.resilientws.testsupport;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a test opened, closed in the reverse order at the end (clients before the servers they talk
 * to, servers before the Redis they use).
 */
public final class Closer implements AutoCloseable {

	private final Deque<AutoCloseable> resources = new ArrayDeque<>();

	/** Registers {@code resource} and returns it. */
	public <T extends AutoCloseable> T add(T resource) {
		this.resources.push(resource);
		return resource;
	}

	@Override
	public void close() throws Exception {
		Exception first = null;
		while (!this.resources.isEmpty()) {
			try {
				this.resources.pop().close();
			}
			catch (Exception ex) {
				if (first == null) {
					first = ex;
				}
			}
		}
		if (first != null) {
			throw first;
		}
	}

}
