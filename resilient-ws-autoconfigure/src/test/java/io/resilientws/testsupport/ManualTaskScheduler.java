package io.resilientws.testsupport;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.Trigger;

/**
 * A {@link TaskScheduler} on a clock that only moves when a test calls {@link #advance}: timing logic
 * is tested to the millisecond without sleeping. Thread-safe, because the code under test schedules
 * from transport threads while the test advances time. Tasks run on the test's thread, inside
 * {@code advance}.
 */
public final class ManualTaskScheduler implements TaskScheduler {

	private final PriorityQueue<Task> tasks = new PriorityQueue<>(
			Comparator.comparing((Task task) -> task.at).thenComparingLong((task) -> task.order));

	private final AtomicLong sequence = new AtomicLong();

	private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

	private final Clock clock = new Clock() {
		@Override
		public ZoneOffset getZone() {
			return ZoneOffset.UTC;
		}

		@Override
		public Clock withZone(java.time.ZoneId zone) {
			return this;
		}

		@Override
		public Instant instant() {
			return ManualTaskScheduler.this.now;
		}
	};

	@Override
	public Clock getClock() {
		return this.clock;
	}

	public Instant now() {
		return this.now;
	}

	/** Moves time forward by {@code duration}, running every task that falls due, in time order. */
	public void advance(Duration duration) {
		advanceTo(this.now.plus(duration));
	}

	/** Moves time to {@code target}, running every task due by then, each at its own time. */
	public void advanceTo(Instant target) {
		while (true) {
			Task next;
			synchronized (this) {
				next = this.tasks.peek();
				if (next == null || next.at.isAfter(target)) {
					break;
				}
				this.tasks.poll();
				if (next.at.isAfter(this.now)) {
					this.now = next.at;
				}
			}
			if (!next.cancelled) {
				next.done = true;
				next.task.run();
			}
		}
		synchronized (this) {
			if (target.isAfter(this.now)) {
				this.now = target;
			}
		}
	}

	/** Tasks waiting to run (cancelled ones excluded). */
	public synchronized long pendingTasks() {
		return this.tasks.stream().filter((task) -> !task.cancelled).count();
	}

	/** When the earliest pending task is due. */
	public synchronized Instant nextTaskAt() {
		return this.tasks.stream().filter((task) -> !task.cancelled).map((task) -> task.at).min(Instant::compareTo)
			.orElseThrow(() -> new IllegalStateException("no task scheduled"));
	}

	/** How long after its time every task scheduled from now on runs: a busy or starved scheduler thread. */
	private volatile Duration lateness = Duration.ZERO;

	/** Makes every task scheduled from now on run {@code lateness} after its time. */
	public void runLateBy(Duration lateness) {
		this.lateness = lateness;
	}

	@Override
	public synchronized ScheduledFuture<?> schedule(Runnable task, Instant startTime) {
		Task scheduled = new Task(task, startTime.plus(this.lateness), this.sequence.incrementAndGet());
		this.tasks.add(scheduled);
		return scheduled;
	}

	@Override
	public ScheduledFuture<?> schedule(Runnable task, Trigger trigger) {
		throw new UnsupportedOperationException("not used by resilient-ws");
	}

	@Override
	public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, Instant startTime, Duration period) {
		throw new UnsupportedOperationException("not used by resilient-ws");
	}

	@Override
	public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, Duration period) {
		throw new UnsupportedOperationException("not used by resilient-ws");
	}

	@Override
	public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, Instant startTime, Duration delay) {
		throw new UnsupportedOperationException("not used by resilient-ws");
	}

	@Override
	public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, Duration delay) {
		throw new UnsupportedOperationException("not used by resilient-ws");
	}

	private final class Task implements ScheduledFuture<Object> {

		final Runnable task;

		final Instant at;

		final long order;

		volatile boolean cancelled;

		volatile boolean done;

		Task(Runnable task, Instant at, long order) {
			this.task = task;
			this.at = at;
			this.order = order;
		}

		@Override
		public long getDelay(TimeUnit unit) {
			return unit.convert(Duration.between(ManualTaskScheduler.this.now, this.at));
		}

		@Override
		public int compareTo(Delayed other) {
			return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
		}

		@Override
		public boolean cancel(boolean mayInterruptIfRunning) {
			boolean wasPending = !this.done && !this.cancelled;
			this.cancelled = true;
			return wasPending;
		}

		@Override
		public boolean isCancelled() {
			return this.cancelled;
		}

		@Override
		public boolean isDone() {
			return this.done || this.cancelled;
		}

		@Override
		public Object get() {
			throw new UnsupportedOperationException();
		}

		@Override
		public Object get(long timeout, TimeUnit unit) {
			throw new UnsupportedOperationException();
		}

	}

}
