package io.resilientws.send;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.jspecify.annotations.Nullable;

/**
 * The outcome of a send, known at once: the message was either accepted into the send buffer or
 * rejected. An accepted message's {@link #delivery()} completes when it has been written to the
 * network, or fails with an {@link UndeliveredMessageException} if it never is. A rejected message's
 * delivery future has already failed with the same reason, so code that only watches the future still
 * learns of every undelivered message.
 */
public final class SendResult {

	private final @Nullable SendFailure rejection;

	private final CompletableFuture<Void> delivery;

	private SendResult(@Nullable SendFailure rejection, CompletableFuture<Void> delivery) {
		this.rejection = rejection;
		this.delivery = delivery;
	}

	static SendResult accepted(CompletableFuture<Void> delivery) {
		return new SendResult(null, delivery);
	}

	/**
	 * A result for a message taken by something other than this process's send buffer (in cluster mode,
	 * a message for a session on another instance): {@code delivery} says what became of it.
	 */
	public static SendResult forwarded(CompletableFuture<Void> delivery) {
		return new SendResult(null, delivery);
	}

	/** A result for a message refused before it was queued. */
	public static SendResult rejected(SendFailure reason) {
		return new SendResult(reason, CompletableFuture.failedFuture(new UndeliveredMessageException(reason, null)));
	}

	/** Whether the message was taken into the send buffer. */
	public boolean isAccepted() {
		return this.rejection == null;
	}

	/** Why the message was refused, empty when it was accepted. */
	public Optional<SendFailure> rejection() {
		return Optional.ofNullable(this.rejection);
	}

	/** Completes when the message is written; fails with {@link UndeliveredMessageException} otherwise. */
	public CompletableFuture<Void> delivery() {
		return this.delivery;
	}

	@Override
	public String toString() {
		return (this.rejection != null) ? "SendResult[rejected: " + this.rejection + "]" : "SendResult[accepted]";
	}

}
