package io.resilientws.client;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * A connection ended (or an attempt to open it failed).
 *
 * @param code the close code; 1006 when the connection died without a close frame
 * @param reason the close reason, or a description of the failure for abnormal closes
 * @param wasClean whether the close handshake completed
 * @param initiator who ended it
 * @param willReconnect whether a reconnect attempt is scheduled
 * @param nextAttempt the number of the scheduled attempt, 0 when none follows
 * @param nextAttemptAt when the scheduled attempt starts, null when none follows
 */
public record CloseEvent(int code, String reason, boolean wasClean, CloseInitiator initiator, boolean willReconnect,
		int nextAttempt, @Nullable Instant nextAttemptAt) {

	/** No close frame was received: the connection died or could not be opened. */
	public static final int ABNORMAL_CLOSURE = 1006;

}
