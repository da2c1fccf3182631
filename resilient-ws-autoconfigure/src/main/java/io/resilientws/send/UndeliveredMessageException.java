package io.resilientws.send;

import org.jspecify.annotations.Nullable;

/**
 * Completes the delivery future of a message that was not written, saying why.
 * <p>
 * It carries no stack trace of its own: the {@link #getFailure() reason} is the whole story, and the
 * place where the library decided it (inside a send under a full buffer, on a pool thread after a
 * close) tells the sender nothing. Filling one in cost a refused send three times an accepted one, on
 * the path a broadcast takes for every slow session. A transport failure is kept as the cause, with
 * its own stack trace; {@code join()} and {@code get()} wrap this exception in one thrown where the
 * sender waits.
 */
public class UndeliveredMessageException extends RuntimeException {

	private final SendFailure failure;

	public UndeliveredMessageException(SendFailure failure, @Nullable Throwable cause) {
		super("Message not delivered: " + failure, cause, true, false);
		this.failure = failure;
	}

	/** Why the message was not delivered. */
	public SendFailure getFailure() {
		return this.failure;
	}

}
