package io.resilientws.server;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;

import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;

/**
 * Sends the heartbeat pings of all sessions from one pool task per heartbeat sweep, not one task per
 * ping.
 * <p>
 * Tomcat's ping is a blocking write, so it never runs on the scheduler thread. A pool task per ping
 * woke a pool thread 2,000 times a second at 10,000 sessions pinged every 5 s, a quarter of the
 * heartbeat's CPU (see {@code docs/BENCHMARKS.md}). Here a drainer task sends every queued ping in
 * turn. One ping must not hold up the others, and a ping blocks when its socket cannot take it:
 * <ul>
 * <li>a session whose write is in progress is not pinged this round (Tomcat would queue the ping
 * behind that write and block a pool thread on it): its heartbeat skips the round, and a write that
 * never completes is the send time limit's to judge;</li>
 * <li>a ping can also block with no write in progress, when the peer stopped reading just as its
 * last message filled the socket's buffer. A drainer inside one ping for longer than
 * {@link #STUCK_AFTER} is left to it, and another drainer takes over the queue.</li>
 * </ul>
 * So a stuck socket holds at most one pool thread (its drainer's), never the pings of the sessions
 * behind it.
 */
final class PingSender {

	/** How long one ping may take before the pings queued behind it go to another drainer. */
	static final Duration STUCK_AFTER = Duration.ofMillis(100);

	/** What sends one ping; {@link ManagedSession} in production. */
	interface Pingable {

		/** Whether a write is in progress, so that a ping would wait behind it. */
		boolean isWriting();

		/** Sends a ping, blocking until it is written or the blocking-send timeout expires. */
		void pingNow();

		/** This round's ping was not sent, because a write is in progress: expect no answer to it. */
		void pingSkipped();

	}

	private final Executor pool;

	private final TaskScheduler scheduler;

	private final Clock clock;

	private final Queue<Pingable> due = new ConcurrentLinkedQueue<>();

	private final Set<Drainer> drainers = ConcurrentHashMap.newKeySet();

	PingSender(Executor pool, TaskScheduler scheduler) {
		this.pool = pool;
		this.scheduler = scheduler;
		this.clock = scheduler.getClock();
	}

	/** Queues a ping; it goes out after the next {@link #flush()}. Returns at once. */
	void ping(Pingable session) {
		this.due.add(session);
	}

	/** Sends the queued pings from one pool task (the heartbeat sweep calls this after each run). */
	void flush() {
		if (this.drainers.isEmpty() && !this.due.isEmpty()) {
			startDrainer();
		}
	}

	private void startDrainer() {
		Drainer drainer = new Drainer();
		this.drainers.add(drainer);
		this.pool.execute(drainer);
		watch(drainer);
	}

	private void watch(Drainer drainer) {
		this.scheduler.schedule(() -> {
			if (!this.drainers.contains(drainer)) {
				return;
			}
			if (drainer.stuck(this.clock.instant()) && !this.due.isEmpty()) {
				this.drainers.remove(drainer);
				startDrainer();
			}
			else {
				watch(drainer);
			}
		}, this.clock.instant().plus(STUCK_AFTER));
	}

	private final class Drainer implements Runnable {

		/** When the ping now being written started; null between pings. */
		private volatile @Nullable Instant pingStartedAt;

		@Override
		public void run() {
			Pingable next;
			while (PingSender.this.drainers.contains(this) && (next = PingSender.this.due.poll()) != null) {
				if (next.isWriting()) {
					next.pingSkipped();
					continue;
				}
				this.pingStartedAt = PingSender.this.clock.instant();
				next.pingNow();
				this.pingStartedAt = null;
			}
			if (PingSender.this.drainers.remove(this) && !PingSender.this.due.isEmpty()) {
				// A ping queued after the queue looked empty, seeing this drainer still listed.
				startDrainer();
			}
		}

		boolean stuck(Instant now) {
			Instant started = this.pingStartedAt;
			return started != null && Duration.between(started, now).compareTo(STUCK_AFTER) > 0;
		}

	}

}
