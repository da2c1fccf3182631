package io.resilientws.server;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import org.jspecify.annotations.Nullable;

/**
 * Where resuming sessions keep what another instance needs to take them over (docs/RESUME-PROTOCOL.md
 * §7): the session's tokens (hashed), the count of client messages it received, and every data message
 * written to its client and not yet acknowledged. Without cluster mode nothing is kept anywhere but in
 * the session itself ({@link #local()}): a session resumes on the instance that holds it or not at all.
 * <p>
 * The order of writes is what makes a takeover exact: a data message is journaled when the session
 * accepts it (in acceptance order, see {@link SessionJournal}), and the count of client messages is stored
 * after everything their handling sent was journaled, and before they are acknowledged.
 * Implementations never block the caller, except {@link #takeOver}, which runs on a handshake thread and
 * waits at most the cluster's request timeout.
 */
public interface ResumeStore {

	/** Whether sessions can be taken over by another instance (false: this instance only). */
	boolean shared();

	/** The resume settings, once, before any session: the window decides how long state is kept. */
	default void configure(Duration window) {
	}

	/** A resuming session started on this instance with {@code token} (before anything is journaled for it). */
	default void started(String sessionId, String endpoint, @Nullable String principal, String token) {
	}

	/**
	 * Journals data messages the session accepted, with their acceptance numbers (called in that order),
	 * and in the same step the count of client messages handled, when {@code handledCount} is not negative.
	 * @return completes when the store has them, exceptionally when they could not be stored
	 */
	default CompletableFuture<?> append(String sessionId, List<OutboundQueue.Journaled> messages, long handledCount) {
		return CompletableFuture.completedFuture(null);
	}

	/** The message accepted as {@code seq} was dropped or failed: it is not to be delivered by anyone. */
	default void dropped(String sessionId, long seq) {
	}

	/** Stores the count of client messages handled, before they are acknowledged. */
	default CompletableFuture<?> received(String sessionId, long clientCount) {
		return CompletableFuture.completedFuture(null);
	}

	/**
	 * The client acknowledged {@code count} messages, the last of them accepted as {@code seq}: the
	 * journal no longer needs them.
	 */
	default void acknowledged(String sessionId, long count, long seq) {
	}

	/** The session's tokens changed (a resume here, or the client confirmed the newest one). */
	default void tokens(String sessionId, String token, @Nullable String unconfirmed) {
	}

	/** The session can no longer be resumed anywhere (its journal overflowed, or a write was not journaled). */
	default void broken(String sessionId) {
	}

	/** This instance drains: the session is being handed over, and no other instance takes it before {@link #release}. */
	default CompletableFuture<?> handingOver(String sessionId) {
		return CompletableFuture.completedFuture(null);
	}

	/**
	 * The holder stops taking messages for a session it hands over ({@code stop}): marked in the store
	 * with nothing published by this instance in between (docs/RESUME-PROTOCOL.md §7).
	 */
	default void stopTaking(String sessionId, Runnable stop) {
		stop.run();
	}

	/** The session left this instance in a drain, having received {@code clientCount}: any instance may take it over. */
	default CompletableFuture<?> release(String sessionId, long clientCount) {
		return CompletableFuture.completedFuture(null);
	}

	/** The session ended for good: its state goes (unless another instance holds it now). */
	default void ended(String sessionId) {
	}

	/**
	 * A client presents {@code token}, which this instance does not know, with {@code received} of the
	 * session's messages: takes the session over if another instance held it and is gone, or handed it over.
	 * @param newToken the token this instance gives the session if it takes it
	 */
	default Takeover takeOver(String token, String endpoint, @Nullable String principal, long received, String newToken) {
		return Takeover.refused(Takeover.Outcome.UNKNOWN);
	}

	/**
	 * What a takeover found.
	 * @param sessionId the session's id, when taken
	 * @param clientReceived how many of the client's messages the session had handled, when taken
	 * @param unacknowledged the journaled messages the client lacks, oldest first, when taken
	 * @param lastSeq the acceptance number of the last message journaled, when taken
	 */
	record Takeover(Outcome outcome, @Nullable String sessionId, long clientReceived,
			List<OutboundQueue.Journaled> unacknowledged, long lastSeq) {

		public enum Outcome {

			/** This instance holds the session now. */
			TAKEN,
			/** Another live instance holds it, or is handing it over: try again later. */
			HELD,
			/** No such session (ended, expired, or its state was lost). */
			UNKNOWN,
			/** The token was replaced before: presented by someone who is not the session's client now. */
			REUSED,
			/** The session belongs to another endpoint. */
			ENDPOINT,
			/** The session belongs to another user. */
			PRINCIPAL,
			/** The journal misses messages the client lacks: resuming would replay part of the gap. */
			OVERFLOW,
			/** The client claims messages the session never sent. */
			INVALID

		}

		public static Takeover refused(Outcome outcome) {
			return new Takeover(outcome, null, 0, List.of(), 0);
		}

	}

	/** No shared state: sessions resume on their own instance only. */
	static ResumeStore local() {
		return () -> false;
	}

}
