package io.resilientws.server;

import java.util.concurrent.CompletableFuture;

/**
 * What a broadcast did: at once, how many sessions of this instance took the message into their send
 * buffer and how many refused it; later, in cluster mode, whether it reached the other instances. Each
 * refused or later undelivered message is also counted and published as a
 * {@link SessionEvent.Undelivered} by the instance that holds the session.
 *
 * @param accepted sessions of this instance that accepted the message
 * @param rejected sessions of this instance that refused it (buffer full under DROP_NEWEST or
 * TERMINATE, or closing)
 * @param cluster completes when the copy for the other instances was published or failed to be;
 * completed at once with {@link ClusterPublication#singleInstance()} when cluster mode is off. Never
 * completes exceptionally.
 */
public record BroadcastResult(int accepted, int rejected, CompletableFuture<ClusterPublication> cluster) {

	/** The result of a broadcast on a single instance. */
	public BroadcastResult(int accepted, int rejected) {
		this(accepted, rejected, CompletableFuture.completedFuture(ClusterPublication.singleInstance()));
	}

}
