package io.resilientws.server;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.resilientws.testsupport.ManualTaskScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Pings go out from a few pool tasks, and a ping stuck in its socket never holds up the pings queued
 * behind it. Real pool threads; the stuck-ping watchdog runs on a manual clock.
 */
class PingSenderTest {

	private final ExecutorService pool = Executors.newCachedThreadPool();

	/** Tasks handed to the pool. */
	private final AtomicInteger tasks = new AtomicInteger();

	private final ManualTaskScheduler scheduler = new ManualTaskScheduler();

	private final PingSender sender = new PingSender((task) -> {
		this.tasks.incrementAndGet();
		this.pool.execute(task);
	}, this.scheduler);

	private final CountDownLatch unblock = new CountDownLatch(1);

	@AfterEach
	void releaseAndStop() {
		this.unblock.countDown();
		this.pool.shutdownNow();
	}

	@Test
	void thePingsOfOneSweepGoOutFromOnePoolTask() {
		Session[] sessions = new Session[1000];
		for (int i = 0; i < sessions.length; i++) {
			sessions[i] = new Session(false, false);
			this.sender.ping(sessions[i]);
		}
		assertThat(this.tasks).hasValue(0);
		this.sender.flush();
		await().atMost(Duration.ofSeconds(10)).until(() -> Arrays.stream(sessions).allMatch((s) -> s.pings.get() == 1));
		assertThat(this.tasks).hasValue(1);
	}

	@Test
	void aSessionWithAWriteInProgressIsNotPingedAndHoldsNoThread() {
		Session writing = new Session(true, true);
		Session next = new Session(false, false);
		this.sender.ping(writing);
		this.sender.ping(next);
		this.sender.flush();
		await().atMost(Duration.ofSeconds(10)).until(() -> next.pings.get() == 1);
		// Its ping would only wait behind the write, holding a pool thread: the heartbeat skips the round
		// instead (a write that never ends is the send time limit's to judge).
		assertThat(writing.skipped).hasValue(1);
		assertThat(writing.entered.getCount()).isEqualTo(1);
		assertThat(writing.pings).hasValue(0);
	}

	@Test
	void aPingStuckInItsSocketHandsTheQueueToAnotherDrainer() throws InterruptedException {
		Session stuck = new Session(false, true);
		Session behind = new Session(false, false);
		this.sender.ping(stuck);
		this.sender.ping(behind);
		this.sender.flush();
		assertThat(stuck.entered.await(10, TimeUnit.SECONDS)).isTrue();
		assertThat(behind.pings).hasValue(0);
		this.scheduler.advance(PingSender.STUCK_AFTER.multipliedBy(3));
		await().atMost(Duration.ofSeconds(10)).until(() -> behind.pings.get() == 1);
		this.unblock.countDown();
		await().atMost(Duration.ofSeconds(10)).until(() -> stuck.pings.get() == 1);
	}

	private final class Session implements PingSender.Pingable {

		private final boolean writing;

		private final boolean blocks;

		final CountDownLatch entered = new CountDownLatch(1);

		final AtomicInteger pings = new AtomicInteger();

		final AtomicInteger skipped = new AtomicInteger();

		Session(boolean writing, boolean blocks) {
			this.writing = writing;
			this.blocks = blocks;
		}

		@Override
		public boolean isWriting() {
			return this.writing;
		}

		@Override
		public void pingSkipped() {
			this.skipped.incrementAndGet();
		}

		@Override
		public void pingNow() {
			this.entered.countDown();
			if (this.blocks) {
				try {
					PingSenderTest.this.unblock.await();
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					return;
				}
			}
			this.pings.incrementAndGet();
		}

	}

}
