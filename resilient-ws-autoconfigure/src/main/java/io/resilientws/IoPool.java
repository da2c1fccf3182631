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

	/** Platform threads per pool: twice the processors, at least 8. */
	public static final int DEFAULT_THREADS = Math.max(8, 2 * Runtime.getRuntime().availableProcessors());

	private IoPool() {
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
