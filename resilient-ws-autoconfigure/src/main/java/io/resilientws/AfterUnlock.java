package io.resilientws;

import java.util.ArrayList;
import java.util.List;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Work decided under a lock and done after it is released. A state machine collects here, while it
 * holds its lock, everything that may block, call out or complete a future (transport I/O, failing
 * queued messages, starting a connect), and the caller runs it once the lock is gone: decide under
 * the lock, act outside it. Not thread-safe: one belongs to one call.
 */
public final class AfterUnlock {

	private static final Log logger = LogFactory.getLog(AfterUnlock.class);

	private final List<Runnable> actions = new ArrayList<>(4);

	/** Adds an action; actions run in the order they were added. */
	public void add(Runnable action) {
		this.actions.add(action);
	}

	/**
	 * Runs the actions, in order. One that throws is logged and does not keep the others from running.
	 * @throws IllegalStateException if the calling thread still holds {@code lock}
	 */
	public void run(Object lock) {
		if (Thread.holdsLock(lock)) {
			throw new IllegalStateException("Actions deferred until after the lock ran under it");
		}
		for (Runnable action : this.actions) {
			try {
				action.run();
			}
			catch (RuntimeException ex) {
				logger.warn("Deferred action failed", ex);
			}
		}
		this.actions.clear();
	}

}
