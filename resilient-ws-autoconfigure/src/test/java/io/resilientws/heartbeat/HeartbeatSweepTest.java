package io.resilientws.heartbeat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.resilientws.testsupport.ManualTaskScheduler;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One sweep drives many heartbeats: one scheduler task whatever their number; a ping or check due
 * inside a tick happens at the tick's end (never early, at most one tick late), one due on a tick
 * boundary exactly then.
 */
class HeartbeatSweepTest {

	private static final Duration INTERVAL = Duration.ofSeconds(5);

	private static final Duration TIMEOUT = Duration.ofSeconds(2);

	private static final Duration TICK = Duration.ofMillis(50);

	private final ManualTaskScheduler scheduler = new ManualTaskScheduler();

	private final AtomicInteger runs = new AtomicInteger();

	private final HeartbeatSweep sweep = new HeartbeatSweep(this.scheduler, TICK, this.runs::incrementAndGet);

	private final List<Instant> pings = new CopyOnWriteArrayList<>();

	private final List<Instant> deaths = new CopyOnWriteArrayList<>();

	@Test
	void tenThousandHeartbeatsShareOneSchedulerTask() {
		List<Heartbeat> heartbeats = new ArrayList<>();
		for (int i = 0; i < 10_000; i++) {
			heartbeats.add(start());
			// Sessions open over 5 s, so their pings are spread over the whole interval.
			this.scheduler.advance(Duration.ofNanos(INTERVAL.toNanos() / 10_000));
		}
		assertThat(this.scheduler.pendingTasks()).isEqualTo(1);
		for (int round = 0; round < 12; round++) {
			// Every heartbeat is answered within a second of its ping, inside the 2 s timeout.
			this.scheduler.advance(Duration.ofSeconds(1));
			heartbeats.forEach(Heartbeat::pongReceived);
			assertThat(this.scheduler.pendingTasks()).isEqualTo(1);
		}
		assertThat(this.deaths).isEmpty();
		assertThat(this.pings).hasSizeGreaterThanOrEqualTo(10_000);
	}

	@Test
	void heartbeatsDueInsideOneTickAreHandledTogetherAtItsEnd() {
		Instant start = this.scheduler.now();
		start();
		this.scheduler.advance(Duration.ofMillis(10));
		start();
		this.scheduler.advance(Duration.ofMillis(10));
		start();
		this.scheduler.advance(INTERVAL.plusMillis(100));
		// The first is pinged at its time; the two due 10 and 20 ms later wait for the next run, 50 ms on.
		assertThat(this.pings).containsExactly(start.plus(INTERVAL), start.plus(INTERVAL).plus(TICK),
				start.plus(INTERVAL).plus(TICK));
		assertThat(this.runs).hasValue(2);
	}

	@Test
	void aFirstRunThatComesTicksLateStillTakesWhatWasDueBeforeIt() {
		// A slow start (class loading, a loaded machine): the sweep's first run comes 3 ticks late. It must
		// not skip the bucket it was scheduled for (the wheel came round to it only 1,024 ticks later).
		this.scheduler.runLateBy(TICK.multipliedBy(3));
		Instant start = this.scheduler.now();
		start();
		this.scheduler.advance(INTERVAL.plus(TICK.multipliedBy(4)));
		assertThat(this.pings).containsExactly(start.plus(INTERVAL).plus(TICK.multipliedBy(3)));
		// Its check, due a timeout after that late ping, runs 3 ticks late too.
		this.scheduler.advance(TIMEOUT.plus(TICK.multipliedBy(4)));
		assertThat(this.deaths).containsExactly(start.plus(INTERVAL).plus(TIMEOUT).plus(TICK.multipliedBy(6)));
	}

	@Test
	void aLoneHeartbeatIsPingedAndCheckedAtItsExactTimes() {
		Instant start = this.scheduler.now();
		start();
		this.scheduler.advance(INTERVAL.plus(TIMEOUT).minusMillis(1));
		assertThat(this.pings).containsExactly(start.plus(INTERVAL));
		assertThat(this.deaths).isEmpty();
		this.scheduler.advance(Duration.ofMillis(1));
		assertThat(this.deaths).containsExactly(start.plus(INTERVAL).plus(TIMEOUT));
		// The wheel turned twice, for the ping and for the check: not once a tick.
		assertThat(this.runs).hasValue(2);
		assertThat(this.scheduler.pendingTasks()).isZero();
		assertThat(this.sweep.size()).isZero();
	}

	@Test
	void aHeartbeatStartedBeforeTheNextRunIsNotDelayedByIt() {
		Instant start = this.scheduler.now();
		start();
		this.scheduler.advance(Duration.ofSeconds(1));
		Heartbeat shorter = new Heartbeat(settings(Duration.ofSeconds(1)), this.sweep, peer(new AtomicInteger()));
		shorter.start();
		assertThat(this.scheduler.nextTaskAt()).isEqualTo(start.plus(Duration.ofSeconds(2)));
	}

	@Test
	void aPeerThatThrowsDoesNotStopTheOthers() {
		AtomicInteger failingPings = new AtomicInteger();
		Heartbeat failing = new Heartbeat(settings(INTERVAL), this.sweep, new Heartbeat.Peer() {
			@Override
			public void sendPing() {
				failingPings.incrementAndGet();
				throw new IllegalStateException("broken transport");
			}

			@Override
			public void declareDead(String description) {
			}
		});
		failing.start();
		for (int i = 0; i < 20; i++) {
			start();
		}
		this.scheduler.advance(INTERVAL.plus(TIMEOUT));
		assertThat(failingPings).hasValue(1);
		assertThat(this.pings).hasSize(20);
		assertThat(this.deaths).hasSize(20);
	}

	@Test
	void stoppedHeartbeatsLeaveTheSweepWhenTheirTimeComesRound() {
		Heartbeat heartbeat = start();
		heartbeat.stop();
		this.scheduler.advance(INTERVAL.multipliedBy(3));
		assertThat(this.sweep.size()).isZero();
		assertThat(this.pings).isEmpty();
		assertThat(this.scheduler.pendingTasks()).isZero();
	}

	private Heartbeat start() {
		Heartbeat heartbeat = new Heartbeat(settings(INTERVAL), this.sweep, peer(null));
		heartbeat.start();
		return heartbeat;
	}

	private HeartbeatSettings settings(Duration interval) {
		return new HeartbeatSettings(true, interval, TIMEOUT, 1, false, HeartbeatMode.FRAME, "ping", "pong");
	}

	private Heartbeat.Peer peer(AtomicInteger counter) {
		return new Heartbeat.Peer() {
			@Override
			public void sendPing() {
				if (counter != null) {
					counter.incrementAndGet();
				}
				else {
					HeartbeatSweepTest.this.pings.add(HeartbeatSweepTest.this.scheduler.now());
				}
			}

			@Override
			public void declareDead(String description) {
				HeartbeatSweepTest.this.deaths.add(HeartbeatSweepTest.this.scheduler.now());
			}
		};
	}

}
