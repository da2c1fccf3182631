package io.resilientws.send;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Runs tasks one at a time, in submission order, on a shared pool: one connection's callbacks keep
 * their order without the connection owning a thread. Delivery futures of one connection or session
 * complete on one of these, in order.
 */
public final class SerialExecutor implements Executor {

	private static final Log logger = LogFactory.getLog(SerialExecutor.class);

	/** How many tasks one turn on a pool thread runs before the queue yields that thread. */
	static final int MAX_TASKS_PER_TURN = 64;

	private final Executor pool;

	// Guarded by this.
	private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

	private boolean scheduled;

	public SerialExecutor(Executor pool) {
		this.pool = pool;
	}

	@Override
	public void execute(Runnable task) {
		synchronized (this) {
			this.tasks.add(task);
			if (this.scheduled) {
				return;
			}
			this.scheduled = true;
		}
		this.pool.execute(this::runAll);
	}

	private void runAll() {
		for (int ran = 0; ran < MAX_TASKS_PER_TURN; ran++) {
			Runnable next;
			synchronized (this) {
				next = this.tasks.poll();
				if (next == null) {
					this.scheduled = false;
					return;
				}
			}
			try {
				next.run();
			}
			catch (Throwable ex) {
				logger.error("Callback failed", ex);
			}
		}
		// Still busy: go to the back of the pool's queue, so that one chatty connection shares the
		// pool's threads with the others instead of keeping one for as long as it has work.
		try {
			this.pool.execute(this::runAll);
		}
		catch (RejectedExecutionException ex) {
			// The pool is shutting down (the application stops): what is left runs here, still in order,
			// rather than being lost or thrown on a thread nobody watches.
			runAll();
		}
	}

}
