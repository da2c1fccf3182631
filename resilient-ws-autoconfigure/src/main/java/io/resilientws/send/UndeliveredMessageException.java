package io.resilientws.send;

import org.jspecify.annotations.Nullable;

/**
 * Completes the delivery future of a message that was not written, saying why.
 */
public class UndeliveredMessageException extends RuntimeException {

	private final SendFailure failure;

	public UndeliveredMessageException(SendFailure failure, @Nullable Throwable cause) {
		super("Message not delivered: " + failure, cause);
		this.failure = failure;
	}

	/** Why the message was not delivered. */
	public SendFailure getFailure() {
		return this.failure;
	}

}
