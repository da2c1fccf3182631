package io.resilientws.heartbeat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;

/**
 * Drives the heartbeats of many connections from one task on the shared scheduler.
 * <p>
 * A timer task per connection for each ping and each check cost two heap inserts into the
 * scheduler's queue per connection per interval, and the churn of those task objects kept G1 busy:
 * at 10,000 server sessions pinged every 5 s that was a third of the heartbeat's CPU (see
 * {@code docs/BENCHMARKS.md}). A sweep instead reads one timestamp per heartbeat and acts only on
 * those that are due.
 * <p>
 * The sweep runs when the earliest heartbeat falls due, but never sooner than {@code coalescing}
 * after the previous run: with few connections every ping and check happens at its exact time, with
 * many the work is done in batches, each ping or check at most {@code coalescing} late.
 */
public final class HeartbeatSweep {

	/** How late a ping or check may run so that due heartbeats are handled together. */
	public static final Duration DEFAULT_COALESCING = Duration.ofMillis(50);

	private static final Log logger = LogFactory.getLog(HeartbeatSweep.class);

	private final TaskScheduler scheduler;

	private final Clock clock;

	private final Duration coalescing;

	private final Set<Heartbeat> heartbeats = ConcurrentHashMap.newKeySet();

	// Guarded by this.

	private @Nullable ScheduledFuture<?> nextRun;

	/** When {@link #nextRun} runs; null when no run is scheduled. */
	private @Nullable Instant nextRunAt;

	private @Nullable Instant lastRunAt;

	/** What runs after each sweep, on the scheduler thread (sending the pings it queued, say). */
	private final Runnable afterEachRun;

	public HeartbeatSweep(TaskScheduler scheduler) {
		this(scheduler, DEFAULT_COALESCING, () -> {
		});
	}

	/**
	 * @param coalescing how late a ping or check may be so that it joins a run
	 * @param afterEachRun runs after each sweep, on the scheduler thread; must not block
	 */
	public HeartbeatSweep(TaskScheduler scheduler, Duration coalescing, Runnable afterEachRun) {
		this.scheduler = scheduler;
		this.clock = scheduler.getClock();
		this.coalescing = coalescing;
		this.afterEachRun = afterEachRun;
	}

	Clock clock() {
		return this.clock;
	}

	/** How many heartbeats are running. */
	public int size() {
		return this.heartbeats.size();
	}

	void add(Heartbeat heartbeat, Instant due) {
		this.heartbeats.add(heartbeat);
		runBy(due);
	}

	void remove(Heartbeat heartbeat) {
		this.heartbeats.remove(heartbeat);
	}

	/** Makes sure a run happens by {@code due}, or as soon after it as the coalescing allows. */
	private synchronized void runBy(Instant due) {
		Instant at = due;
		if (this.lastRunAt != null && at.isBefore(this.lastRunAt.plus(this.coalescing))) {
			at = this.lastRunAt.plus(this.coalescing);
		}
		if (this.nextRunAt != null && !this.nextRunAt.isAfter(at)) {
			return;
		}
		if (this.nextRun != null) {
			this.nextRun.cancel(false);
		}
		this.nextRunAt = at;
		this.nextRun = this.scheduler.schedule(this::run, at);
	}

	private void run() {
		Instant now = this.clock.instant();
		synchronized (this) {
			this.lastRunAt = now;
			if (this.nextRunAt != null && !this.nextRunAt.isAfter(now)) {
				// This is the scheduled run (a later one, scheduled meanwhile, stays).
				this.nextRunAt = null;
				this.nextRun = null;
			}
		}
		Instant earliest = null;
		for (Heartbeat heartbeat : this.heartbeats) {
			Instant due = heartbeat.dueAt();
			if (due != null && !due.isAfter(now)) {
				due = beat(heartbeat, now);
			}
			if (due == null) {
				this.heartbeats.remove(heartbeat);
			}
			else if (earliest == null || due.isBefore(earliest)) {
				earliest = due;
			}
		}
		if (earliest != null) {
			runBy(earliest);
		}
		try {
			this.afterEachRun.run();
		}
		catch (RuntimeException ex) {
			logger.warn("Heartbeat sweep's follow-up failed", ex);
		}
	}

	/** One heartbeat's turn; whatever its peer throws must not stop the sweep for the others. */
	private @Nullable Instant beat(Heartbeat heartbeat, Instant now) {
		try {
			return heartbeat.beat(now);
		}
		catch (RuntimeException ex) {
			logger.warn("Heartbeat " + heartbeat + " failed; it goes on", ex);
			return heartbeat.dueAt();
		}
	}

}
