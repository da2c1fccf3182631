package io.resilientws.resume;

/**
 * A peer broke the resume protocol: the connection is closed with 1002. The message says what rule
 * was broken and never repeats what the peer sent (it may carry a token).
 */
public final class ResumeProtocolException extends RuntimeException {

	public ResumeProtocolException(String message) {
		super(message);
	}

}
