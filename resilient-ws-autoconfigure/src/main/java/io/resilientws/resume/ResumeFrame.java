package io.resilientws.resume;

import org.jspecify.annotations.Nullable;

/**
 * A control message of the resume protocol (docs/RESUME-PROTOCOL.md §2), never shown to the
 * application. Read and written by {@link ResumeWire}.
 */
public sealed interface ResumeFrame {

	/** The server's first message: it speaks the protocol and waits for {@link New} or {@link Resume}. */
	record Hello() implements ResumeFrame {
	}

	/** The client starts a new session. */
	record New() implements ResumeFrame {
	}

	/**
	 * The client resumes the session of {@code token}.
	 * @param token the token the last {@link Session} gave; a credential, never logged
	 * @param received data messages the client has received in that session
	 */
	record Resume(String token, long received) implements ResumeFrame {

		@Override
		public String toString() {
			return "Resume[received=" + this.received + "]";
		}

	}

	/**
	 * The server's answer to {@link New} or {@link Resume}.
	 * @param token the token for the next resume; a credential, never logged
	 * @param received data messages the server has received from the client in this session
	 * @param recovered whether the session goes on ({@code false}: a new session, state lost)
	 * @param reason why a resume was refused, or {@code null}
	 */
	record Session(String token, long received, boolean recovered, @Nullable RefusalReason reason)
			implements ResumeFrame {

		@Override
		public String toString() {
			return "Session[received=" + this.received + ", recovered=" + this.recovered + ", reason=" + this.reason
					+ "]";
		}

	}

	/**
	 * A cumulative acknowledgement.
	 * @param received data messages of the peer received in this session
	 */
	record Ack(long received) implements ResumeFrame {
	}

	/** Why a resume was refused; its wire name is the lower-case name. */
	enum RefusalReason {

		/** The resume window passed. */
		EXPIRED,
		/** More was unacknowledged than the buffer limit holds. */
		OVERFLOW,
		/** No such session (for example the instance restarted without cluster mode). */
		UNKNOWN,
		/** The session belongs to another authenticated user. */
		PRINCIPAL,
		/** The session belongs to another endpoint. */
		ENDPOINT,
		/** The token was used before; the session it resumed has been ended. */
		REUSED;

		String wireName() {
			return name().toLowerCase(java.util.Locale.ROOT);
		}

	}

}
