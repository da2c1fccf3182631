package io.resilientws.heartbeat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;

/**
 * Drives the heartbeats of many connections from one task on the shared scheduler.
 * <p>
 * A timer task per connection for each ping and each check cost two heap inserts into the
 * scheduler's queue per connection per interval, and a sweep that visited every heartbeat on every
 * run cost a cache miss or three per heartbeat, 20 times a second (see {@code docs/BENCHMARKS.md}).
 * Here time is cut into ticks of {@code tick} (50 ms by default) and each heartbeat waits in the
 * bucket of the tick its next ping or check falls in, a timing wheel: one run per tick takes out one
 * bucket, so a heartbeat is visited only when it has something to do.
 * <p>
 * A ping or check due inside a tick happens at the tick's end: up to one tick late, never early.
 * Ticks are aligned to the epoch, so a heartbeat whose times are whole multiples of the tick (every
 * interval and timeout in seconds, started on a tick) runs on time.
 */
public final class HeartbeatSweep {

	/** The width of a tick: how late a ping or check may be so that it joins others in one run. */
	public static final Duration DEFAULT_TICK = Duration.ofMillis(50);

	/** Buckets in the wheel; a heartbeat due further ahead than one turn waits for its turn to come round. */
	private static final int BUCKETS = 1024;

	private static final Log logger = LogFactory.getLog(HeartbeatSweep.class);

	private final TaskScheduler scheduler;

	private final Clock clock;

	private final long tickNanos;

	/** What runs after each tick, on the scheduler thread (sending the pings it queued, say). */
	private final Runnable afterEachRun;

	// Guarded by this.

	@SuppressWarnings("unchecked")
	private final List<Heartbeat>[] buckets = new List[BUCKETS];

	/** Heartbeats in the wheel, including stopped ones not yet taken out. */
	private int size;

	/**
	 * The last tick whose bucket was taken out; at first the one before the sweep was made. A run takes
	 * every bucket after it up to its own time, so a run that comes late (the first one too) skips none.
	 */
	private long lastTick;

	private @Nullable ScheduledFuture<?> nextRun;

	/** The tick {@link #nextRun} is for. */
	private long nextRunTick = Long.MAX_VALUE;

	public HeartbeatSweep(TaskScheduler scheduler) {
		this(scheduler, DEFAULT_TICK, () -> {
		});
	}

	/**
	 * @param tick how late a ping or check may be so that it joins a run
	 * @param afterEachRun runs after each tick's run, on the scheduler thread; must not block
	 */
	public HeartbeatSweep(TaskScheduler scheduler, Duration tick, Runnable afterEachRun) {
		this.scheduler = scheduler;
		this.clock = scheduler.getClock();
		this.tickNanos = tick.toNanos();
		this.afterEachRun = afterEachRun;
		this.lastTick = tickOf(this.clock.instant()) - 1;
		for (int i = 0; i < BUCKETS; i++) {
			this.buckets[i] = new ArrayList<>();
		}
	}

	Clock clock() {
		return this.clock;
	}

	/** How many heartbeats wait in the wheel (a stopped one until its bucket comes round). */
	public synchronized int size() {
		return this.size;
	}

	void add(Heartbeat heartbeat, Instant due) {
		synchronized (this) {
			put(heartbeat, tickOf(due));
			this.size++;
		}
		runBy(tickOf(due));
	}

	/** The tick at whose end {@code time} has come: the first tick boundary at or after it. */
	private long tickOf(Instant time) {
		return Math.floorDiv(epochNanos(time) - 1, this.tickNanos) + 1;
	}

	private static long epochNanos(Instant time) {
		return Math.multiplyExact(time.getEpochSecond(), 1_000_000_000L) + time.getNano();
	}

	private Instant startOf(long tick) {
		long nanos = Math.multiplyExact(tick, this.tickNanos);
		return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
	}

	// Under this lock.
	private void put(Heartbeat heartbeat, long tick) {
		long at = Math.max(tick, this.lastTick + 1);
		this.buckets[(int) Math.floorMod(at, (long) BUCKETS)].add(heartbeat);
	}

	/** Makes sure the wheel turns at the end of {@code tick} at the latest. */
	private synchronized void runBy(long tick) {
		long at = Math.max(tick, this.lastTick + 1);
		if (at >= this.nextRunTick) {
			return;
		}
		if (this.nextRun != null) {
			this.nextRun.cancel(false);
		}
		this.nextRunTick = at;
		this.nextRun = this.scheduler.schedule(this::run, startOf(at));
	}

	private void run() {
		Instant now = this.clock.instant();
		// The tick that ends at or before now: every bucket up to it is due.
		long currentTick = Math.floorDiv(epochNanos(now), this.tickNanos);
		List<Heartbeat> due = new ArrayList<>();
		synchronized (this) {
			this.nextRun = null;
			this.nextRunTick = Long.MAX_VALUE;
			// After a stall (a suspended machine) at most one turn of the wheel is behind: every bucket once.
			long from = Math.max(this.lastTick + 1, currentTick - BUCKETS + 1);
			for (long tick = from; tick <= currentTick; tick++) {
				List<Heartbeat> bucket = this.buckets[(int) Math.floorMod(tick, (long) BUCKETS)];
				due.addAll(bucket);
				bucket.clear();
			}
			this.lastTick = Math.max(this.lastTick, currentTick);
			this.size -= due.size();
		}
		List<Heartbeat> stay = new ArrayList<>(due.size());
		List<Instant> stayUntil = new ArrayList<>(due.size());
		for (Heartbeat heartbeat : due) {
			Instant next = heartbeat.dueAt();
			if (next != null && !next.isAfter(now)) {
				next = beat(heartbeat, now);
			}
			if (next != null) {
				stay.add(heartbeat);
				stayUntil.add(next);
			}
		}
		synchronized (this) {
			for (int i = 0; i < stay.size(); i++) {
				put(stay.get(i), tickOf(stayUntil.get(i)));
			}
			this.size += stay.size();
			long next = nextBusyTick();
			if (next != Long.MAX_VALUE) {
				runBy(next);
			}
		}
		try {
			this.afterEachRun.run();
		}
		catch (RuntimeException ex) {
			logger.warn("Heartbeat sweep's follow-up failed", ex);
		}
	}

	/**
	 * The first tick after the last run whose bucket holds a heartbeat; MAX_VALUE when the wheel is
	 * empty. With many heartbeats that is the next tick; with a few the wheel turns only when one is due.
	 */
	private synchronized long nextBusyTick() {
		if (this.size == 0) {
			return Long.MAX_VALUE;
		}
		for (long tick = this.lastTick + 1; tick <= this.lastTick + BUCKETS; tick++) {
			if (!this.buckets[(int) Math.floorMod(tick, (long) BUCKETS)].isEmpty()) {
				return tick;
			}
		}
		return Long.MAX_VALUE;
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
