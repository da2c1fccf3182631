package io.resilientws.client;

import java.io.IOException;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import org.jspecify.annotations.Nullable;

/**
 * The server answered the opening handshake, but not with a valid upgrade: another status (a 503 with
 * {@code Retry-After}, a 401, a 404), or a 101 that does not complete the handshake (a wrong accept
 * key, a subprotocol that was not offered). Its message names the status, or for a 101 the rule it
 * broke, in this class's own words: the response's headers and body are the server's words.
 */
public final class HandshakeRefusedException extends IOException {

	private final int status;

	private final transient @Nullable String retryAfter;

	/** A refusal: any status but 101. */
	HandshakeRefusedException(int status, HttpHeaders headers) {
		this(status, headers.get(HttpHeaderNames.RETRY_AFTER), "handshake refused with HTTP " + status);
	}

	private HandshakeRefusedException(int status, @Nullable String retryAfter, String message) {
		super(message);
		this.status = status;
		this.retryAfter = retryAfter;
	}

	/**
	 * A 101 that does not complete the handshake (a 101 asks for no retry later: it has no {@code Retry-After}).
	 * @param rule what the response got wrong, in fixed words ("a subprotocol that was not offered")
	 */
	static HandshakeRefusedException invalidUpgrade(String rule) {
		return new HandshakeRefusedException(101, null, "invalid upgrade response: " + rule);
	}

	/** The HTTP status the server answered with. */
	public int status() {
		return this.status;
	}

	/** The response's {@code Retry-After}, as sent; null when it had none. */
	public @Nullable String retryAfter() {
		return this.retryAfter;
	}

}
