package io.resilientws;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.function.LongSupplier;

/**
 * A clock that never steps: it reads the wall clock once, then moves only with
 * {@link System#nanoTime()}. Heartbeats, send-time limits, rate limiters and backoff measure
 * intervals by comparing instants of the scheduler's clock; on the wall clock, an NTP step back by Δ
 * would silence every heartbeat for Δ, and a step forward would declare healthy peers dead at once.
 * <p>
 * The price: instants shown to people (endpoint, health, events) drift from the wall clock by the
 * steps it took since startup. They are still right relative to each other.
 */
public final class MonotonicClock extends Clock {

	private final Instant anchor;

	private final long anchorNanos;

	private final LongSupplier nanoTime;

	private MonotonicClock(Instant anchor, long anchorNanos, LongSupplier nanoTime) {
		this.anchor = anchor;
		this.anchorNanos = anchorNanos;
		this.nanoTime = nanoTime;
	}

	/** Anchored to the system clock now, advancing with {@link System#nanoTime()}. */
	public static MonotonicClock system() {
		return anchoredAt(Clock.systemUTC(), System::nanoTime);
	}

	/** Anchored to {@code wall}'s instant now, advancing with {@code nanoTime} (tests pass their own). */
	public static MonotonicClock anchoredAt(Clock wall, LongSupplier nanoTime) {
		return new MonotonicClock(wall.instant(), nanoTime.getAsLong(), nanoTime);
	}

	@Override
	public Instant instant() {
		// Differences of nanoTime are meaningful even across its overflow.
		return this.anchor.plusNanos(this.nanoTime.getAsLong() - this.anchorNanos);
	}

	@Override
	public long millis() {
		return instant().toEpochMilli();
	}

	@Override
	public ZoneId getZone() {
		return ZoneOffset.UTC;
	}

	@Override
	public Clock withZone(ZoneId zone) {
		if (zone.equals(ZoneOffset.UTC)) {
			return this;
		}
		throw new UnsupportedOperationException("MonotonicClock runs in UTC only");
	}

}
