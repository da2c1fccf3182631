package io.resilientws.benchmarks.driver;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/** A latency histogram in microseconds, safe to record into from several threads. */
public final class Latency {

	private static final long MAX_MICROS = 600_000_000L;

	private final Histogram histogram = new ConcurrentHistogram(1, MAX_MICROS, 3);

	public void recordNanos(long nanos) {
		this.histogram.recordValue(Math.max(1, Math.min(MAX_MICROS, nanos / 1000)));
	}

	public long count() {
		return this.histogram.getTotalCount();
	}

	/** The percentile in milliseconds. */
	public double percentileMillis(double percentile) {
		return this.histogram.getValueAtPercentile(percentile) / 1000.0;
	}

	public double maxMillis() {
		return this.histogram.getMaxValue() / 1000.0;
	}

	public Histogram histogram() {
		return this.histogram;
	}

	public void reset() {
		this.histogram.reset();
	}

}
