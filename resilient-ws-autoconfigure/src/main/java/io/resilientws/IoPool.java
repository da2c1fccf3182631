package io.resilientws;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.springframework.core.task.VirtualThreadTaskExecutor;

/**
 * The pools the registries run transport callbacks, handler callbacks, delivery outcomes and
 * blocking container calls (Tomcat's pings and closes) on. Never a thread per connection: a bounded
 * pool of platform threads, {@link #DEFAULT_THREADS} unless configured, or virtual threads when the
 * application runs on them ({@code spring.threads.virtual.enabled=true} on Java 21+).
 * <p>
 * With a bounded pool, work beyond its threads waits in its queue: a handler that blocks delays the
 * other connections' callbacks, never the heartbeat or the sends (those run on the scheduler and the
 * senders' threads).
 */
public final class IoPool {

	/**
	 * Platform threads per pool: 64, or 8 per processor where that is more. Most of the pool's work
	 * is short, but a ping or close frame to a stuck socket blocks its thread up to the blocking-send
	 * timeout; the bound keeps a crowd of stuck peers from costing more than this many threads, and
	 * idle threads end after a minute.
	 */
	public static final int DEFAULT_THREADS = Math.max(64, 8 * Runtime.getRuntime().availableProcessors());

	private IoPool() {
	}

	/** The pool to use: virtual threads if {@code virtual}, else {@link #bounded} with the default size. */
	public static ExecutorService create(String prefix, boolean virtual) {
		return virtual ? virtual(prefix) : bounded(prefix, DEFAULT_THREADS);
	}

	/** At most {@code threads} daemon threads named {@code prefix1, prefix2...}; idle ones end after a minute. */
	public static ExecutorService bounded(String prefix, int threads) {
		ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 1, TimeUnit.MINUTES,
				new LinkedBlockingQueue<>(), daemonThreads(prefix));
		pool.allowCoreThreadTimeOut(true);
		return pool;
	}

	/**
	 * A virtual thread per task (Java 21+), named {@code prefix} and a number.
	 * @throws IllegalStateException on a Java version without virtual threads
	 */
	public static ExecutorService virtual(String prefix) {
		ThreadFactory factory = new VirtualThreadTaskExecutor(prefix).getVirtualThreadFactory();
		// A ThreadPoolExecutor that never queues, only to have an ExecutorService to shut down: each
		// task gets a thread of its own, and virtual threads are cheap.
		return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(), factory);
	}

	private static ThreadFactory daemonThreads(String prefix) {
		AtomicInteger count = new AtomicInteger();
		return (task) -> {
			Thread thread = new Thread(task, prefix + count.incrementAndGet());
			thread.setDaemon(true);
			return thread;
		};
	}

}
