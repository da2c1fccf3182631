package io.resilientws.server;

import java.util.concurrent.CompletableFuture;

import io.resilientws.send.OutboundMessage;

/**
 * The seam between the session registry and the other instances of the application. The registry
 * delivers to its own sessions itself and hands every message that may concern other instances to
 * its fan-out; the fan-out hands what other instances published to {@link Receiver}. Chosen once at
 * startup: {@link #singleInstance()} without cluster mode, the Redis fan-out with it.
 * <p>
 * Implementations never block the caller on the network (except {@link #admitPrincipal}, which runs
 * on a handshake thread and waits at most its request timeout) and never call back under a lock.
 */
public interface Fanout {

	/** What other instances published, for this instance's sessions. */
	interface Receiver {

		/** Delivers {@code message} to this instance's sessions that {@code selector} selects. */
		void deliver(SessionSelector selector, OutboundMessage message);

		/** This instance's open sessions by endpoint, and per user, for the instance's registration. */
		Counts counts();

		/**
		 * The client of a resuming session held here came back to another instance, which asks for it:
		 * handed over if it waits detached here (an attached one stays; that client is asked to try again).
		 */
		default void handOverRequested(String sessionId) {
		}

	}

	/** A snapshot of the registry's counts that the fan-out publishes about this instance. */
	record Counts(java.util.Map<String, Integer> sessionsByEndpoint, java.util.Map<String, Integer> sessionsByPrincipal) {
	}

	/** Starts receiving and announcing this instance; called when the registry starts. */
	void start(Receiver receiver);

	/**
	 * Sends {@code message} to the other instances' sessions that {@code selector} selects.
	 * @return completes (never exceptionally) when the message was published or could not be
	 */
	CompletableFuture<ClusterPublication> publish(SessionSelector selector, OutboundMessage message);

	/** A session opened on this instance (so messages for its id or user find this instance). */
	void opened(ManagedSession session);

	/**
	 * Publishes and delivers the local copies ({@code publishAndDeliver}) in order with a takeover
	 * ({@link #adopt}), so that a session taken over gets each of this instance's publications once.
	 */
	default <T> T publishing(java.util.function.Supplier<T> publishAndDeliver) {
		return publishAndDeliver.get();
	}

	/**
	 * A session taken over from another instance opens here: {@code register} makes the registry's
	 * deliveries find it, and the session gets, ahead of the live stream, what was published for it
	 * while no instance held it. Waits for Redis at most three times its request timeout (on a handshake
	 * thread). Takes the place of {@link #opened} for such a session.
	 * @return false when that cannot be had whole (the caller unregisters the session and refuses the
	 * resume: never a replay of part of the gap)
	 */
	default boolean adopt(ManagedSession session, Runnable register) {
		register.run();
		opened(session);
		return true;
	}

	/** A session of this instance closed. */
	void closed(ManagedSession session);

	/**
	 * Counts one more session of {@code principal} across all instances, unless that makes more than
	 * {@code limit}: then counts nothing and returns false.
	 */
	boolean admitPrincipal(String principal, int limit);

	/** Gives back a place taken by {@link #admitPrincipal}. */
	void releasePrincipal(String principal);

	/** The live instances as last seen. */
	ClusterView view();

	/** Takes this instance out of the cluster view first thing in a drain. */
	void leave();

	/** Where resuming sessions keep what another instance needs to take them over. */
	default ResumeStore resumeStore() {
		return ResumeStore.local();
	}

	/** Stops receiving; called when the registry is destroyed. */
	void stop();

	/** No other instances: nothing to publish, the view is this instance. */
	static Fanout singleInstance() {
		return new SingleInstanceFanout();
	}

}
