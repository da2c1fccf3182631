package io.resilientws;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MonotonicClockTest {

	private static final Instant START = Instant.parse("2026-12-01T10:00:00Z");

	@Test
	void instantsFollowNanoTimeNotTheWallClock() {
		AtomicLong nanos = new AtomicLong(Long.MAX_VALUE - 500_000_000L);
		MonotonicClock clock = MonotonicClock.anchoredAt(Clock.fixed(START, ZoneOffset.UTC), nanos::get);
		assertThat(clock.instant()).isEqualTo(START);

		// nanoTime overflows here: differences still count.
		nanos.addAndGet(1_500_000_000L);
		assertThat(clock.instant()).isEqualTo(START.plus(Duration.ofMillis(1500)));
		assertThat(clock.millis()).isEqualTo(START.toEpochMilli() + 1500);
	}

	@Test
	void aWallClockSetBackAnHourDoesNotMoveItBack() {
		MutableClock wall = new MutableClock(START);
		AtomicLong nanos = new AtomicLong();
		MonotonicClock clock = MonotonicClock.anchoredAt(wall, nanos::get);

		wall.now = START.minus(Duration.ofHours(1));
		nanos.addAndGet(Duration.ofSeconds(3).toNanos());

		assertThat(clock.instant()).isEqualTo(START.plusSeconds(3));
	}

	@Test
	void theSharedSchedulerMeasuresTimeWithIt() {
		ResilientWsScheduler scheduler = ResilientWsScheduler.create();
		try {
			assertThat(scheduler.taskScheduler().getClock()).isInstanceOf(MonotonicClock.class);
		}
		finally {
			scheduler.destroy();
		}
	}

	private static final class MutableClock extends Clock {

		private Instant now;

		MutableClock(Instant now) {
			this.now = now;
		}

		@Override
		public Instant instant() {
			return this.now;
		}

		@Override
		public java.time.ZoneId getZone() {
			return ZoneOffset.UTC;
		}

		@Override
		public Clock withZone(java.time.ZoneId zone) {
			return this;
		}

	}

}
