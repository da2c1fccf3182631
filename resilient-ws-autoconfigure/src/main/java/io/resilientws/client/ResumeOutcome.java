package io.resilientws.client;

import java.util.Optional;

import io.resilientws.resume.ResumeFrame.RefusalReason;
import org.jspecify.annotations.Nullable;

/**
 * How a connection with {@code resume.enabled} came back after losing a session: whether the server
 * took up the same session (nothing lost, nothing repeated) or a new one started (state lost). Told
 * to {@link ConnectionHandler#onResume} just before {@code onOpen}, and published as
 * {@link ConnectionEvent.Resumed}. A first session, and connections without resume, have none.
 *
 * @param recovered whether the session went on
 * @param reason why not, when not recovered
 */
public record ResumeOutcome(boolean recovered, @Nullable Reason reason) {

	static final ResumeOutcome RECOVERED = new ResumeOutcome(true, null);

	static ResumeOutcome notRecovered(Reason reason) {
		return new ResumeOutcome(false, reason);
	}

	/** Why the session was not recovered, when it was not. */
	public Optional<Reason> notRecoveredReason() {
		return Optional.ofNullable(this.reason);
	}

	/** Why a session was not recovered. */
	public enum Reason {

		/** The server refused: its resume window passed. */
		EXPIRED,
		/** The server refused: it held more for the session than its buffer limit. */
		OVERFLOW,
		/** The server refused: it knows no such session (restarted, or another instance). */
		UNKNOWN,
		/** The server refused: the session belongs to another authenticated user. */
		PRINCIPAL,
		/** The server refused: the session belongs to another endpoint. */
		ENDPOINT,
		/** The server refused: the token had been used before. */
		REUSED,
		/** The server refused without saying why. */
		REFUSED,
		/** The connection was closed with a code that ends the session (not 1001, 1006, 1011, 1012 or 1013). */
		SESSION_ENDED,
		/** More of what the client sent was unacknowledged than {@code resume.buffer-limit}. */
		CLIENT_OVERFLOW,
		/** The server answered the new connection without the resume protocol. */
		NOT_SUPPORTED;

		static Reason of(@Nullable RefusalReason refusal) {
			if (refusal == null) {
				return REFUSED;
			}
			return switch (refusal) {
				case EXPIRED -> EXPIRED;
				case OVERFLOW -> OVERFLOW;
				case UNKNOWN -> UNKNOWN;
				case PRINCIPAL -> PRINCIPAL;
				case ENDPOINT -> ENDPOINT;
				case REUSED -> REUSED;
			};
		}

	}

}
