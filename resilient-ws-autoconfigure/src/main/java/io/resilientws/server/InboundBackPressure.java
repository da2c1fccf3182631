package io.resilientws.server;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import io.resilientws.send.OutboundQueue;
import org.springframework.scheduling.TaskScheduler;

/**
 * Flow control from the send buffers back onto the client whose messages fill them: when the
 * application's handler, handling an inbound message of session S, leaves some session's send buffer
 * above {@link #HIGH_WATER_FRACTION} of the limit while that session's writes are progressing, S stops
 * being read until those buffers have drained, for at most {@link #MAX_PAUSE}. TCP then slows S's
 * client down to what the server actually writes.
 * <p>
 * Why: a handler that broadcasts what it reads enqueues in microseconds, but Tomcat hands every write
 * completion to another container thread, and on a loaded machine one hand-off can wait tens of
 * milliseconds. A client that sends a burst would fill the buffers of healthy sessions (its own echo
 * first) within one such wait and be cut as a slow consumer although everybody reads. Spring's
 * {@code ConcurrentWebSocketSessionDecorator} never queues there because the reading thread writes
 * itself, which pushes back on the sender; this does the same without blocking a thread.
 * <p>
 * A session whose write is stuck (started more than {@link #PROGRESS_WINDOW} ago: its client does not
 * read) pauses nobody: it overflows and its overflow policy applies as before, so a paused client
 * delays a sender at most about {@code PROGRESS_WINDOW + MAX_PAUSE}, once. Sends from threads that are
 * not handling an inbound message (schedulers, STOMP's channels, other code) pause nobody, and only
 * sessions whose reading can be suspended (Tomcat's) are ever paused.
 * <p>
 * Thread-safety: what a handler filled is recorded in a thread-local for the duration of
 * {@link #handle}; the decision uses only the queues' own thread-safe accessors, and the reader is
 * suspended and resumed outside every lock. The timer runs on the shared scheduler, on its clock.
 */
final class InboundBackPressure {

	/** The share of the send buffer limit above which a progressing session pauses its sender. */
	static final double HIGH_WATER_FRACTION = 0.5;

	/**
	 * A write in flight for less than this is progressing: longer than the hand-off stalls of a loaded
	 * container (up to 70 ms measured), far shorter than a client that stopped reading.
	 */
	static final Duration PROGRESS_WINDOW = Duration.ofMillis(250);

	/** The longest one inbound message keeps its session from being read. */
	static final Duration MAX_PAUSE = Duration.ofMillis(100);

	/** What is needed of the session whose messages are handled. */
	interface Reader {

		/**
		 * Stops reading this session's messages, if it can and is not stopped already.
		 * @return whether reading was stopped by this call
		 */
		boolean suspend();

		/** Reads again; called once after each successful {@link #suspend}. */
		void resume();

	}

	/** The send buffers the current thread's inbound message pushed above the high-water mark. */
	private static final ThreadLocal<Set<OutboundQueue>> FILLED = new ThreadLocal<>();

	private final TaskScheduler scheduler;

	private final long highWater;

	InboundBackPressure(long bufferLimit, TaskScheduler scheduler) {
		this.scheduler = scheduler;
		this.highWater = Math.max(1, (long) (bufferLimit * HIGH_WATER_FRACTION));
	}

	/** The work of handling one inbound message, as the application's handler does it. */
	@FunctionalInterface
	interface Handling {

		void run() throws Exception;

	}

	/**
	 * Runs {@code handling} for a message {@code reader} sent, then pauses the reader if the handling
	 * left a progressing send buffer above the high-water mark.
	 * @return whether the reader was paused
	 */
	boolean handle(Reader reader, Handling handling) throws Exception {
		if (FILLED.get() != null) {
			// A handler that handles another message on the same thread: the outer call decides.
			handling.run();
			return false;
		}
		Set<OutboundQueue> filled = new HashSet<>();
		FILLED.set(filled);
		try {
			handling.run();
		}
		finally {
			FILLED.remove();
		}
		return !filled.isEmpty() && pauseFor(reader, filled);
	}

	/**
	 * Called after a message was accepted into {@code queue}: notes it when the current thread is
	 * handling an inbound message and the queue is above the high-water mark. Cheap otherwise.
	 */
	void accepted(OutboundQueue queue) {
		Set<OutboundQueue> filled = FILLED.get();
		if (filled != null && queue.bufferedBytes() >= this.highWater) {
			filled.add(queue);
		}
	}

	private boolean pauseFor(Reader reader, Set<OutboundQueue> filled) {
		Instant now = this.scheduler.getClock().instant();
		List<CompletableFuture<Void>> drained = new ArrayList<>();
		for (OutboundQueue queue : filled) {
			if (queue.bufferedBytes() >= this.highWater && progressing(queue.writingSince(), now)) {
				drained.add(queue.whenDrained());
			}
		}
		if (drained.isEmpty() || !reader.suspend()) {
			drained.forEach((waiter) -> waiter.complete(null));
			return false;
		}
		AtomicBoolean resumed = new AtomicBoolean();
		Runnable resume = () -> {
			if (resumed.compareAndSet(false, true)) {
				reader.resume();
			}
		};
		// Completing the waiters at the cap also lets their queues forget them.
		ScheduledFuture<?> cap = this.scheduler.schedule(() -> drained.forEach((waiter) -> waiter.complete(null)),
				now.plus(MAX_PAUSE));
		CompletableFuture.allOf(drained.toArray(CompletableFuture[]::new)).thenRun(() -> {
			cap.cancel(false);
			// Resumed from the scheduler, a hop away from the thread that drained the queue: Tomcat
			// 11.0.22 loses a resume that lands while the reading thread is still leaving its suspended
			// read (see ManagedSession's reader, which also pings to wake such a read). The hop makes
			// that window all but unreachable.
			this.scheduler.schedule(resume, this.scheduler.getClock().instant());
		});
		return true;
	}

	private static boolean progressing(Optional<Instant> writingSince, Instant now) {
		// No write in flight with bytes buffered: the writer is between two writes, not stuck.
		return writingSince.isEmpty() || Duration.between(writingSince.get(), now).compareTo(PROGRESS_WINDOW) < 0;
	}

}
