package io.resilientws.client;

import java.time.Duration;
import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * A connection's state read at one instant under one lock, for observers (health, the actuator
 * endpoint): its parts agree with each other, which separate reads cannot promise (OPEN without an
 * open-since, say).
 *
 * @param state the state
 * @param attempt the number of the current or scheduled connect attempt since the last stable open
 * @param nextAttemptAt when the next attempt starts, while waiting for it
 * @param lastClose how the connection last closed or failed to open
 * @param openSince since when it is open, while open
 * @param downSince since when it has been trying to open, while connecting or waiting
 * @param protocol the negotiated subprotocol, or ""
 * @param lastHeartbeatRoundTrip the round trip of the latest answered ping of the current connection
 */
public record ConnectionSnapshot(ConnectionState state, int attempt, @Nullable Instant nextAttemptAt,
		@Nullable CloseEvent lastClose, @Nullable Instant openSince, @Nullable Instant downSince, String protocol,
		@Nullable Duration lastHeartbeatRoundTrip) {
}
