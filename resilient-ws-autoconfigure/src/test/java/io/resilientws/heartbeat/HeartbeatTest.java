package io.resilientws.heartbeat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.resilientws.testsupport.ManualTaskScheduler;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Heartbeat timing on an injected clock: the bounds are checked to the millisecond.
 */
class HeartbeatTest {

	private static final Duration INTERVAL = Duration.ofSeconds(20);

	private static final Duration TIMEOUT = Duration.ofSeconds(10);

	private final ManualTaskScheduler scheduler = new ManualTaskScheduler();

	private final HeartbeatSweep sweep = new HeartbeatSweep(this.scheduler);

	private final AtomicInteger pings = new AtomicInteger();

	private final List<String> deaths = new CopyOnWriteArrayList<>();

	private final List<String> hooks = new CopyOnWriteArrayList<>();

	private final Heartbeat.Peer peer = new Heartbeat.Peer() {
		@Override
		public void sendPing() {
			HeartbeatTest.this.pings.incrementAndGet();
		}

		@Override
		public void declareDead(String description) {
			HeartbeatTest.this.deaths.add(description);
			HeartbeatTest.this.hooks.add("dead");
		}

		@Override
		public void pingAnswered(Duration roundTrip) {
			HeartbeatTest.this.hooks.add("answered " + roundTrip.toMillis());
		}

		@Override
		public void pingMissed(int consecutive) {
			HeartbeatTest.this.hooks.add("missed " + consecutive);
		}
	};

	@Test
	void thePeerIsToldOfEachAnsweredAndEachMissedPing() {
		Heartbeat heartbeat = heartbeat(2, false);
		heartbeat.start();
		this.scheduler.advance(INTERVAL.plusMillis(25));
		heartbeat.pongReceived();
		// A second pong for the same ping measures nothing.
		heartbeat.pongReceived();
		this.scheduler.advance(INTERVAL.minusMillis(25));
		this.scheduler.advance(TIMEOUT);
		this.scheduler.advance(INTERVAL.minus(TIMEOUT));
		this.scheduler.advance(TIMEOUT);
		assertThat(this.hooks).containsExactly("answered 25", "missed 1", "missed 2", "dead");
	}

	@Test
	void aSilentPeerIsDeclaredDeadExactlyIntervalPlusTimeoutAfterTheLastSignOfLife() {
		Heartbeat heartbeat = heartbeat(1, false);
		heartbeat.start();
		this.scheduler.advance(INTERVAL.minusMillis(1));
		assertThat(this.pings).hasValue(0);
		this.scheduler.advance(Duration.ofMillis(1));
		assertThat(this.pings).hasValue(1);
		this.scheduler.advance(TIMEOUT.minusMillis(1));
		assertThat(this.deaths).isEmpty();
		this.scheduler.advance(Duration.ofMillis(1));
		assertThat(this.deaths).singleElement().asString().contains("no pong within 10000 ms");
		assertThat(this.scheduler.pendingTasks()).isZero();
	}

	@Test
	void aSkippedPingCountsNoMissAndTheNextGoesOutOnTime() {
		Heartbeat heartbeat = heartbeat(1, false);
		heartbeat.start();
		this.scheduler.advance(INTERVAL);
		assertThat(this.pings).hasValue(1);
		heartbeat.pingSkipped();
		this.scheduler.advance(TIMEOUT);
		assertThat(this.deaths).isEmpty();
		this.scheduler.advance(INTERVAL.minus(TIMEOUT));
		assertThat(this.pings).hasValue(2);
		this.scheduler.advance(TIMEOUT);
		// That one was sent and is not answered: one miss is the limit here.
		assertThat(this.deaths).hasSize(1);
	}

	@Test
	void aPongKeepsThePeerAliveAndMeasuresTheRoundTrip() {
		Heartbeat heartbeat = heartbeat(1, false);
		heartbeat.start();
		this.scheduler.advance(INTERVAL);
		for (int i = 0; i < 5; i++) {
			this.scheduler.advance(Duration.ofMillis(40));
			heartbeat.pongReceived();
			this.scheduler.advance(INTERVAL.minusMillis(40));
		}
		assertThat(this.deaths).isEmpty();
		assertThat(this.pings).hasValue(6);
		assertThat(heartbeat.lastRoundTrip()).isEqualTo(Duration.ofMillis(40));
	}

	@Test
	void pingsKeepTheirRhythmWhateverTheAnswerTime() {
		Heartbeat heartbeat = heartbeat(1, false);
		heartbeat.start();
		this.scheduler.advance(INTERVAL);
		heartbeat.pongReceived();
		this.scheduler.advance(INTERVAL.minusMillis(1));
		assertThat(this.pings).hasValue(1);
		this.scheduler.advance(Duration.ofMillis(1));
		assertThat(this.pings).hasValue(2);
	}

	@Test
	void withMaxMissedTwoTheSecondUnansweredPingIsFatal() {
		Heartbeat heartbeat = heartbeat(2, false);
		heartbeat.start();
		this.scheduler.advance(INTERVAL.plus(TIMEOUT));
		assertThat(this.deaths).isEmpty();
		this.scheduler.advance(INTERVAL.minus(TIMEOUT).plus(TIMEOUT).minusMillis(1));
		assertThat(this.deaths).isEmpty();
		this.scheduler.advance(Duration.ofMillis(1));
		assertThat(this.deaths).singleElement().asString().contains("2 consecutive missed");
		assertThat(INTERVAL.multipliedBy(2).plus(TIMEOUT)).isEqualTo(heartbeat(2, false).settings().detectionBound());
	}

	@Test
	void anAnswerResetsTheMissedCount() {
		Heartbeat heartbeat = heartbeat(2, false);
		heartbeat.start();
		this.scheduler.advance(INTERVAL.plus(TIMEOUT));
		this.scheduler.advance(INTERVAL.minus(TIMEOUT));
		heartbeat.pongReceived();
		this.scheduler.advance(TIMEOUT);
		this.scheduler.advance(INTERVAL.minus(TIMEOUT).plus(TIMEOUT));
		assertThat(this.deaths).isEmpty();
	}

	@Test
	void anyInboundFrameProvesLifeOnlyWhenConfigured() {
		Heartbeat counting = heartbeat(1, true);
		counting.start();
		this.scheduler.advance(INTERVAL.plusMillis(5));
		counting.frameReceived();
		this.scheduler.advance(TIMEOUT);
		assertThat(this.deaths).isEmpty();
		counting.stop();
		// Back onto the sweep's 50 ms tick grid, so that the next ping goes out exactly one interval on.
		this.scheduler.advance(Duration.ofMillis(45));

		Heartbeat strict = heartbeat(1, false);
		strict.start();
		this.scheduler.advance(INTERVAL.plusMillis(5));
		strict.frameReceived();
		this.scheduler.advance(TIMEOUT);
		assertThat(this.deaths).hasSize(1);
	}

	@Test
	void stopCancelsEverything() {
		Heartbeat heartbeat = heartbeat(1, false);
		heartbeat.start();
		heartbeat.stop();
		this.scheduler.advance(INTERVAL.multipliedBy(10));
		assertThat(this.pings).hasValue(0);
		assertThat(this.deaths).isEmpty();
	}

	private Heartbeat heartbeat(int maxMissed, boolean anyFrameCounts) {
		return new Heartbeat(new HeartbeatSettings(true, INTERVAL, TIMEOUT, maxMissed, anyFrameCounts,
				HeartbeatMode.FRAME, "ping", "pong"), this.sweep, this.peer);
	}

}
