package io.resilientws;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * The one scheduler behind every heartbeat, reconnect timer and send-rate wake-up of resilient-ws.
 * Its tasks only compare timestamps and start non-blocking I/O, so one thread serves thousands of
 * connections. Its clock is a {@link MonotonicClock}: what it measures does not jump when the
 * system clock is set.
 * <p>
 * Deliberately not a {@link TaskScheduler} bean: that would make Spring Boot skip its own
 * {@code taskScheduler} and run the application's {@code @Scheduled} work on this thread.
 */
public final class ResilientWsScheduler implements DisposableBean {

	private final TaskScheduler scheduler;

	private final boolean owned;

	private ResilientWsScheduler(TaskScheduler scheduler, boolean owned) {
		this.scheduler = scheduler;
		this.owned = owned;
	}

	/** A single daemon thread named {@code resilient-ws-scheduler}. */
	public static ResilientWsScheduler create() {
		ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
		scheduler.setPoolSize(1);
		scheduler.setThreadNamePrefix("resilient-ws-scheduler-");
		scheduler.setDaemon(true);
		// Heartbeat and close timers are cancelled far more often than they fire: do not let them pile up.
		scheduler.setRemoveOnCancelPolicy(true);
		// Every timestamp resilient-ws compares comes from this clock: it must not step with NTP.
		scheduler.setClock(MonotonicClock.system());
		scheduler.initialize();
		return new ResilientWsScheduler(scheduler, true);
	}

	/** Wraps a scheduler the caller owns (tests pass one that advances a manual clock). */
	public static ResilientWsScheduler of(TaskScheduler scheduler) {
		return new ResilientWsScheduler(scheduler, false);
	}

	public TaskScheduler taskScheduler() {
		return this.scheduler;
	}

	@Override
	public void destroy() {
		if (this.owned && this.scheduler instanceof ThreadPoolTaskScheduler pool) {
			pool.shutdown();
		}
	}

}
