package io.resilientws.send;

import java.util.concurrent.CompletableFuture;

/**
 * Writes one data message to a transport without blocking. The returned future completes when the
 * message is on the wire (handed to the socket) and fails if the transport cannot write it. The
 * {@link OutboundQueue} never calls this again before the previous future has completed.
 */
@FunctionalInterface
public interface MessageWriter {

	CompletableFuture<?> write(OutboundMessage message);

}
