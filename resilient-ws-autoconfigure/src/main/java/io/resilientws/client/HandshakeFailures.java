package io.resilientws.client;

import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * Reads what a failed connect attempt says: a readable description, and the server's
 * {@code Retry-After} when it refused the handshake with 429 or 503.
 */
final class HandshakeFailures {

	private HandshakeFailures() {
	}

	static String describe(Throwable failure) {
		Throwable cause = rootOf(failure);
		HttpResponse<?> response = response(failure);
		if (response != null) {
			return "handshake refused with HTTP " + response.statusCode();
		}
		if (cause instanceof HttpTimeoutException) {
			return "connect timed out";
		}
		return "connect failed: " + cause.getClass().getSimpleName()
				+ ((cause.getMessage() != null) ? ": " + cause.getMessage() : "");
	}

	/** The delay the server asked for, if it refused with 429 or 503 and a valid Retry-After. */
	static Optional<Duration> retryAfter(Throwable failure, Instant now) {
		HttpResponse<?> response = response(failure);
		if (response == null || (response.statusCode() != 429 && response.statusCode() != 503)) {
			return Optional.empty();
		}
		return response.headers().firstValue("Retry-After").flatMap((value) -> parseRetryAfter(value.trim(), now));
	}

	/** Seconds or an HTTP date, at most {@link ReconnectSettings#MAX_RETRY_AFTER}. */
	static Optional<Duration> parseRetryAfter(String value, Instant now) {
		Duration max = ReconnectSettings.MAX_RETRY_AFTER;
		if (value.matches("[0-9]+")) {
			// More digits than a long holds is still "very long", not "absent".
			boolean huge = value.length() > 18 || Long.parseLong(value) > max.toSeconds();
			return Optional.of(huge ? max : Duration.ofSeconds(Long.parseLong(value)));
		}
		try {
			Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
			Duration delay = at.isAfter(now) ? Duration.between(now, at) : Duration.ZERO;
			return Optional.of((delay.compareTo(max) > 0) ? max : delay);
		}
		catch (DateTimeParseException notADate) {
			return Optional.empty();
		}
	}

	private static @Nullable HttpResponse<?> response(Throwable failure) {
		for (Throwable t = failure; t != null; t = t.getCause()) {
			if (t instanceof WebSocketHandshakeException handshake) {
				return handshake.getResponse();
			}
		}
		return null;
	}

	private static Throwable rootOf(Throwable failure) {
		Throwable t = failure;
		while (t.getCause() != null && t.getCause() != t) {
			t = t.getCause();
		}
		return t;
	}

}
