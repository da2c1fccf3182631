package io.resilientws.send;

import java.time.Duration;

/**
 * The limits of one connection's send buffer.
 *
 * @param bufferLimit most bytes accepted but not yet written
 * @param overflow what a send does beyond the limit
 * @param blockTimeout how long a send waits for room under {@link OverflowPolicy#BLOCK}
 * @param messagesPerSecond most messages written a second, 0 for no limit
 * @param burst messages that may be written at once after a quiet spell, when rate limited
 */
public record SendLimits(long bufferLimit, OverflowPolicy overflow, Duration blockTimeout, double messagesPerSecond,
		int burst) {

	public boolean rateLimited() {
		return this.messagesPerSecond > 0;
	}

}
