package io.resilientws.health;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import io.resilientws.client.CloseEvent;
import io.resilientws.client.CloseInitiator;
import io.resilientws.client.ConnectionSnapshot;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * The health of one managed client connection:
 * <ul>
 * <li>{@code OPEN}: {@code UP};</li>
 * <li>connecting or waiting to reconnect: {@link #RECONNECTING} until it has been down for
 * {@code down-after}, then {@code DOWN};</li>
 * <li>closed without having been asked to (reconnects exhausted, or a close code that does not
 * reconnect): {@code DOWN};</li>
 * <li>closed or closing on purpose, or never started: {@link #CLOSED}.</li>
 * </ul>
 * RECONNECTING and CLOSED are not in Spring Boot's default status order, so they do not change the
 * aggregated status: a reconnecting connection is not a failure until {@code down-after} says so.
 * Details show the state, the URL without credentials or query, the attempt and the last close; never
 * a header.
 */
public final class ConnectionHealthIndicator implements HealthIndicator {

	/** Trying to (re)open for less than {@code down-after}. */
	public static final Status RECONNECTING = new Status("RECONNECTING",
			"Connecting or waiting to reconnect, for less than down-after");

	/** Closed on purpose (or never started): not a failure. */
	public static final Status CLOSED = new Status("CLOSED", "Closed on purpose or not started");

	private final ManagedConnection connection;

	private final Duration downAfter;

	private final Clock clock;

	public ConnectionHealthIndicator(ManagedConnection connection, Duration downAfter, Clock clock) {
		this.connection = connection;
		this.downAfter = downAfter;
		this.clock = clock;
	}

	@Override
	public Health health() {
		// One read under one lock: state and timestamps agree (no OPEN without its openSince).
		ConnectionSnapshot snapshot = this.connection.snapshot();
		ConnectionState state = snapshot.state();
		Optional<CloseEvent> lastClose = Optional.ofNullable(snapshot.lastClose());
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("state", state.name());
		details.put("url", this.connection.settings().redactedUrl());
		Status status = switch (state) {
			case OPEN -> {
				if (snapshot.openSince() != null) {
					details.put("openSince", snapshot.openSince().toString());
				}
				yield Status.UP;
			}
			case CONNECTING, WAITING_TO_RECONNECT -> {
				Instant now = this.clock.instant();
				Instant since = (snapshot.downSince() != null) ? snapshot.downSince() : now;
				details.put("attempt", snapshot.attempt());
				details.put("downSince", since.toString());
				details.put("downAfter", this.downAfter.toString());
				if (snapshot.nextAttemptAt() != null) {
					details.put("nextAttemptAt", snapshot.nextAttemptAt().toString());
				}
				yield (Duration.between(since, now).compareTo(this.downAfter) < 0) ? RECONNECTING : Status.DOWN;
			}
			case CLOSING -> CLOSED;
			case CLOSED -> lastClose.filter((close) -> close.initiator() != CloseInitiator.LOCAL).isPresent()
					? Status.DOWN : CLOSED;
		};
		lastClose.ifPresent((close) -> details.put("lastClose", closeDetails(close)));
		return Health.status(status).withDetails(details).build();
	}

	private static Map<String, Object> closeDetails(CloseEvent close) {
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("code", close.code());
		details.put("reason", close.reason());
		details.put("initiator", close.initiator().name());
		return details;
	}

}
