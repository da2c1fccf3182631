package io.resilientws.cluster;

import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import io.resilientws.server.SessionSelector;
import org.jspecify.annotations.Nullable;

/**
 * What the Redis fan-out counts, by target: cheap increments on the hot path, read by the meters
 * ({@code resilientws.cluster.messages.*}). The target is one of three words, never a node id or a
 * session id, so that the meters' tags stay bounded over restarts.
 */
public final class ClusterStatistics {

	/** What a message was for: the tag {@code target} of the cluster meters. */
	public enum Target {

		BROADCAST, SESSION, PRINCIPAL;

		static Target of(SessionSelector selector) {
			return (selector instanceof SessionSelector.Session) ? SESSION
					: (selector instanceof SessionSelector.Principal) ? PRINCIPAL : BROADCAST;
		}

		/** The tag value. */
		public String tag() {
			return name().toLowerCase(java.util.Locale.ROOT);
		}

	}

	private final LongAdder[] published = adders();

	private final LongAdder[] received = adders();

	private final LongAdder[] failed = adders();

	private final LongAdder invalid = new LongAdder();

	private volatile @Nullable Consumer<Duration> latencyListener;

	private static LongAdder[] adders() {
		LongAdder[] adders = new LongAdder[Target.values().length];
		for (int i = 0; i < adders.length; i++) {
			adders[i] = new LongAdder();
		}
		return adders;
	}

	/** Messages this instance published to Redis. */
	public long published(Target target) {
		return this.published[target.ordinal()].sum();
	}

	/** Messages this instance received from other instances. */
	public long received(Target target) {
		return this.received[target.ordinal()].sum();
	}

	/** Messages this instance could not publish (the other instances did not get them). */
	public long failed(Target target) {
		return this.failed[target.ordinal()].sum();
	}

	/** Messages from Redis on this library's channels that were not a valid envelope (and were dropped). */
	public long invalidReceived() {
		return this.invalid.sum();
	}

	/** Receives the publish-to-delivery latency of each message from another instance. */
	public void onLatency(Consumer<Duration> listener) {
		this.latencyListener = listener;
	}

	void published(SessionSelector selector) {
		this.published[Target.of(selector).ordinal()].increment();
	}

	void failed(SessionSelector selector) {
		this.failed[Target.of(selector).ordinal()].increment();
	}

	void received(SessionSelector selector, long latencyMicros) {
		this.received[Target.of(selector).ordinal()].increment();
		Consumer<Duration> listener = this.latencyListener;
		if (listener != null) {
			listener.accept(Duration.ofNanos(Math.max(0, latencyMicros) * 1000));
		}
	}

	void countInvalid() {
		this.invalid.increment();
	}

}
