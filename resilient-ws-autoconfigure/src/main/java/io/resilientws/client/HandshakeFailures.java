package io.resilientws.client;

import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

import javax.net.ssl.SSLException;

import org.jspecify.annotations.Nullable;

/**
 * Reads what a failed connect attempt or a lost connection says: a short description for the close
 * reason, and the server's {@code Retry-After} when it refused the handshake with 429 or 503.
 * <p>
 * The description is what the log, {@code lastClose} on the actuator endpoint and health show, so it
 * is a fixed vocabulary, never the transport's text as is: connect-time exception messages can quote the
 * request's header values (often credentials) and the bytes of the response (chosen by whoever
 * answered). A connect failure is named by its kind and exception class only; a loss of an open
 * connection keeps the exception's message, escaped and cut short, because there it comes from the
 * socket or the frame decoder, not from the request. The whole exception still reaches
 * {@link ConnectionHandler#onError}.
 */
final class HandshakeFailures {

	/** Longest exception message kept in the description of a lost connection. */
	private static final int MAX_MESSAGE = 100;

	private HandshakeFailures() {
	}

	/**
	 * One of "handshake refused with HTTP &lt;status&gt;", "invalid upgrade response: &lt;rule&gt;", "connect
	 * timed out", "TLS handshake failed: &lt;exception class&gt;" or "connect failed: &lt;exception class&gt;".
	 */
	static String describe(Throwable failure) {
		HandshakeRefusedException refused = find(failure, HandshakeRefusedException.class);
		if (refused != null) {
			// Its message is this library's own words: the status, or which rule a 101 broke.
			return refused.getMessage();
		}
		if (find(failure, HttpTimeoutException.class) != null) {
			return "connect timed out";
		}
		SSLException tls = find(failure, SSLException.class);
		if (tls != null) {
			return "TLS handshake failed: " + tls.getClass().getSimpleName();
		}
		return "connect failed: " + rootOf(failure).getClass().getSimpleName();
	}

	/** "connection lost: &lt;exception class&gt;[: &lt;message, escaped and cut short&gt;]". */
	static String describeLoss(Throwable failure) {
		return "connection lost: " + safeSummary(failure);
	}

	/** "protocol error: &lt;message, escaped and cut short&gt;" (the decoder's message says which rule the peer broke). */
	static String describeProtocolError(Throwable failure) {
		String message = failure.getMessage();
		return "protocol error: " + ((message != null) ? SafeText.escape(message, MAX_MESSAGE)
				: failure.getClass().getSimpleName());
	}

	private static String safeSummary(Throwable failure) {
		String message = failure.getMessage();
		return failure.getClass().getSimpleName()
				+ ((message != null) ? ": " + SafeText.escape(message, MAX_MESSAGE) : "");
	}

	/** The delay the server asked for, if it refused with 429 or 503 and a valid Retry-After. */
	static Optional<Duration> retryAfter(Throwable failure, Instant now) {
		HandshakeRefusedException refused = find(failure, HandshakeRefusedException.class);
		if (refused == null || (refused.status() != 429 && refused.status() != 503) || refused.retryAfter() == null) {
			return Optional.empty();
		}
		return parseRetryAfter(refused.retryAfter().trim(), now);
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

	private static <T extends Throwable> @Nullable T find(Throwable failure, Class<T> type) {
		for (Throwable t = failure; t != null; t = (t.getCause() != t) ? t.getCause() : null) {
			if (type.isInstance(t)) {
				return type.cast(t);
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
