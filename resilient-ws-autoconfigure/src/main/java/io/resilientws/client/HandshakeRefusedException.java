package io.resilientws.client;

import java.io.IOException;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import org.jspecify.annotations.Nullable;

/**
 * The server answered the opening handshake, but not with a valid upgrade: another status (a 503 with
 * {@code Retry-After}, a 401, a 404), or a 101 that does not complete the handshake (a wrong accept
 * key, a subprotocol that was not offered). Its message names the status only: the response's other
 * headers and body are the server's words.
 */
public final class HandshakeRefusedException extends IOException {

	private final int status;

	private final transient @Nullable String retryAfter;

	HandshakeRefusedException(int status, HttpHeaders headers) {
		super("handshake refused with HTTP " + status);
		this.status = status;
		this.retryAfter = headers.get(HttpHeaderNames.RETRY_AFTER);
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
