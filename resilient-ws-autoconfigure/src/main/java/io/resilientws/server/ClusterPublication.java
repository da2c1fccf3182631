package io.resilientws.server;

import org.jspecify.annotations.Nullable;

/**
 * What became of the part of a send or broadcast that was for other instances.
 *
 * @param status whether it was published
 * @param instances how many other instances received it from Redis (0 when none holds a selected
 * session, or when not published)
 * @param reason why it was not published, or null
 */
public record ClusterPublication(Status status, int instances, @Nullable String reason) {

	private static final ClusterPublication SINGLE_INSTANCE = new ClusterPublication(Status.SINGLE_INSTANCE, 0, null);

	/** Cluster mode is off: there are no other instances to publish to. */
	public static ClusterPublication singleInstance() {
		return SINGLE_INSTANCE;
	}

	public static ClusterPublication published(int instances) {
		return new ClusterPublication(Status.PUBLISHED, instances, null);
	}

	public static ClusterPublication notPublished(String reason) {
		return new ClusterPublication(Status.NOT_PUBLISHED, 0, reason);
	}

	/** Whether nothing was lost on the way to the other instances (published, or nothing to publish). */
	public boolean isComplete() {
		return this.status != Status.NOT_PUBLISHED;
	}

	public enum Status {

		/** Cluster mode is off. */
		SINGLE_INSTANCE,

		/** Redis took the message and handed it to {@link #instances()} other instances. */
		PUBLISHED,

		/**
		 * The message did not reach Redis (unreachable, or no answer within the request timeout): the
		 * sessions on other instances did not get it. Counted in {@code resilientws.cluster.messages.failed}.
		 */
		NOT_PUBLISHED

	}

}
