package io.resilientws.send;

import java.time.Clock;
import java.time.Duration;

/**
 * A token bucket: {@code messagesPerSecond} tokens a second, up to {@code burst} saved up. Used for
 * the send rate of a connection and the inbound rate of a server session. Not
 * thread-safe: callers hold their own lock.
 */
public final class RateLimiter {

	private final double tokensPerNano;

	private final double burst;

	private final Clock clock;

	private double tokens;

	private long lastRefillNanos;

	public RateLimiter(double messagesPerSecond, int burst, Clock clock) {
		this.tokensPerNano = messagesPerSecond / 1_000_000_000d;
		this.burst = burst;
		this.clock = clock;
		this.tokens = burst;
		this.lastRefillNanos = nowNanos();
	}

	public boolean tryAcquire() {
		refill();
		if (this.tokens >= 1) {
			this.tokens -= 1;
			return true;
		}
		return false;
	}

	/** How long until the next token is there. */
	public Duration timeToNextToken() {
		refill();
		double missing = 1 - this.tokens;
		return (missing <= 0) ? Duration.ZERO : Duration.ofNanos((long) Math.ceil(missing / this.tokensPerNano));
	}

	private void refill() {
		long now = nowNanos();
		this.tokens = Math.min(this.burst, this.tokens + (now - this.lastRefillNanos) * this.tokensPerNano);
		this.lastRefillNanos = now;
	}

	private long nowNanos() {
		var instant = this.clock.instant();
		return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
	}

}
