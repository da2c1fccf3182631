package io.resilientws.server;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import io.resilientws.send.SerialExecutor;

/**
 * One resuming session's lane to its {@link ResumeStore} in cluster mode: issues the store's commands
 * for the session in the order that makes a takeover exact. Accepted messages are appended in their
 * acceptance order (senders on several threads tell of them out of order), several at a time when
 * several are ready, and whatever must come after some of them (the count of handled client messages,
 * the drop of a message, the release in a drain) is issued only after those were. The store's commands
 * go out on one connection in issue order, so Redis applies them in that order too.
 * <p>
 * What the session's own handler sends to the session while it handles a client message is held back
 * until the handler returns, and then appended together with the new count of handled messages, in one
 * command: if this instance dies, Redis has either both (the client's message is not asked for again,
 * the answer is replayed) or neither (the answer was never written, the client sends its message again
 * and the next instance answers it). A handler therefore must not wait, while handling, for the delivery
 * of what it sends to its own session.
 * <p>
 * Commands are issued one batch at a time on the pool, never under the lock and never on the store's
 * event loop: a command queued from the event loop itself would overtake those other threads queued a
 * moment before (Netty writes it at once, theirs wait in its task queue), and Redis would apply them out
 * of order (found by ClusterResumeTest: appends refused for numbers below the stream's last). Queuing a
 * command does not wait for Redis; only the next append waits for the one on its way to be answered,
 * and then carries every message accepted meanwhile.
 */
final class SessionJournal implements OutboundQueue.Journal {

	/** Most messages in one append (one command): bounds a command's size and a burst's latency. */
	private static final int MAX_BATCH = 64;

	private final ResumeStore store;

	private final String sessionId;

	private final Executor pool;

	private final Object lock = new Object();

	/** Accepted messages waiting for an earlier acceptance number, by number. */
	private final TreeMap<Long, OutboundMessage> appends = new TreeMap<>();

	/** Commands waiting until every message up to their key was appended. */
	private final TreeMap<Long, List<Runnable>> afterwards = new TreeMap<>();

	/** Appends not yet confirmed by the store, by acceptance number, until their message is written. */
	private final Map<Long, CompletableFuture<Void>> unconfirmed = new ConcurrentHashMap<>();

	/** Marks the thread that runs this session's handler, while it handles a client message. */
	private static final ThreadLocal<SessionJournal> HANDLING = new ThreadLocal<>();

	/** Accepted messages the handler sent while handling, held back until it returns. */
	private final java.util.Set<Long> held = new java.util.HashSet<>();

	/**
	 * Counts of handled messages to store with the appends of what their handling sent, by the acceptance
	 * number of the last message sent: each append carries the highest count whose messages it completes.
	 * Not only the last append of a round: a round of more than {@link #MAX_BATCH} messages, or one cut
	 * where a command waits, goes in several appends, which may reach the store in separate calls. An
	 * instance that died between them left the first appends' answers in the journal without their count
	 * (ClusterJarIT: the next instance asked the client for 60 messages again, and answered them twice).
	 */
	private final TreeMap<Long, Long> countsForAppends = new TreeMap<>();

	/** Every message up to this acceptance number has been appended. */
	private long issuedThrough;

	/**
	 * Appends issued and not yet answered by the store. While one is on its way, the messages accepted
	 * meanwhile wait and then go together, in one append: at most one append per round trip, however fast
	 * messages come (with the store's writes of all sessions batched into one call, appends issued at
	 * once would each carry one message, and Redis would do the per-append work per message).
	 */
	private int appendsInFlight;

	/** Runs one issue at a time, in order, on the pool. */
	private final Executor issuer;

	private boolean issueScheduled;

	// The count of handled client messages: one store command at a time, the newest count when it goes.
	private long countWanted;

	private long countWantedAfter;

	private long countStored;

	private boolean countInFlight;

	private final List<CountWaiter> countWaiters = new ArrayList<>();

	/**
	 * @param lastSeq the acceptance number of the last message appended before (of a session taken over)
	 * @param pool where a confirmed append lets its message be written (not on the store's event loop)
	 */
	SessionJournal(ResumeStore store, String sessionId, long lastSeq, Executor pool) {
		this.store = store;
		this.sessionId = sessionId;
		this.issuedThrough = lastSeq;
		this.pool = pool;
		this.issuer = new SerialExecutor(pool);
	}

	@Override
	public void accepted(long seq, OutboundMessage message) {
		confirmation(seq);
		synchronized (this.lock) {
			this.appends.put(seq, message);
			if (HANDLING.get() == this) {
				this.held.add(seq);
				return;
			}
		}
		issue();
	}

	/** The current thread starts handling a client message of this session. */
	void handling() {
		HANDLING.set(this);
	}

	/**
	 * The handler returned: it has handled {@code count} client messages, and everything it sent while
	 * handling was accepted up to {@code seq}. What it sent goes now, with the count.
	 */
	void handledNow(long count, long seq) {
		HANDLING.remove();
		boolean carried;
		synchronized (this.lock) {
			// With what the handler sent, if it sent anything to its own session (else on its own): in the
			// append of the last message it sent. Messages other threads had sent meanwhile (up to seq) are
			// not its answers, and may go in a later append.
			carried = !this.held.isEmpty();
			if (carried) {
				this.countsForAppends.merge(Collections.max(this.held), count, Math::max);
			}
			this.held.clear();
		}
		if (carried) {
			issue();
		}
		else {
			handled(count, seq);
		}
	}

	@Override
	public void dropped(long seq) {
		CompletableFuture<Void> confirmed = this.unconfirmed.remove(seq);
		if (confirmed != null) {
			confirmed.complete(null);
		}
		after(seq, () -> this.store.dropped(this.sessionId, seq));
	}

	@Override
	public CompletableFuture<?> appended(long seq) {
		// Asked for once, at the message's first write; may come before its sender has told of it.
		CompletableFuture<Void> confirmed = confirmation(seq);
		if (confirmed.isDone()) {
			this.unconfirmed.remove(seq);
			return confirmed;
		}
		return confirmed.thenRunAsync(() -> this.unconfirmed.remove(seq), this.pool);
	}

	private CompletableFuture<Void> confirmation(long seq) {
		return this.unconfirmed.computeIfAbsent(seq, (key) -> new CompletableFuture<>());
	}

	/**
	 * Stores that the session's handler has handled {@code count} client messages, once everything
	 * accepted up to {@code seq} (all it sent while handling them) has been appended. While one count
	 * is on its way to the store, later ones wait and only the newest goes next: one command per round
	 * trip, however fast messages come.
	 * @return completes when the store has that count or a higher one (exceptionally when it failed)
	 */
	CompletableFuture<Void> handled(long count, long seq) {
		CompletableFuture<Void> stored = new CompletableFuture<>();
		boolean start;
		synchronized (this.lock) {
			if (count <= this.countStored) {
				return CompletableFuture.completedFuture(null);
			}
			this.countWaiters.add(new CountWaiter(count, stored));
			if (count > this.countWanted) {
				this.countWanted = count;
			}
			this.countWantedAfter = Math.max(this.countWantedAfter, seq);
			start = !this.countInFlight;
			this.countInFlight = true;
		}
		if (start) {
			storeCount();
		}
		return stored;
	}

	private void storeCount() {
		long count;
		long seq;
		synchronized (this.lock) {
			count = this.countWanted;
			seq = this.countWantedAfter;
		}
		after(seq, () -> this.store.received(this.sessionId, count).whenComplete((ignored, failure) -> {
			List<CountWaiter> done;
			boolean more;
			synchronized (this.lock) {
				done = (failure == null) ? stored(count) : waitersThrough(count);
				// An append may have stored a higher count meanwhile.
				more = this.countWanted > Math.max(count, this.countStored);
				this.countInFlight = more;
			}
			done.forEach((waiter) -> {
				if (failure != null) {
					waiter.stored().completeExceptionally(failure);
				}
				else {
					waiter.stored().complete(null);
				}
			});
			if (more) {
				storeCount();
			}
		}));
	}

	/** The client acknowledged {@code count} messages, the last accepted as {@code seq}. */
	void acknowledged(long count, long seq) {
		after(seq, () -> this.store.acknowledged(this.sessionId, count, seq));
	}

	/** Releases the session in a drain, once everything accepted up to {@code seq} has been appended. */
	CompletableFuture<?> release(long handledCount, long seq) {
		CompletableFuture<Object> released = new CompletableFuture<>();
		after(seq, () -> this.store.release(this.sessionId, handledCount).whenComplete((ignored, failure) -> {
			if (failure != null) {
				released.completeExceptionally(failure);
			}
			else {
				released.complete(null);
			}
		}));
		return released;
	}

	/** Runs {@code command} once every message accepted up to {@code seq} has been appended. */
	void after(long seq, Runnable command) {
		synchronized (this.lock) {
			this.afterwards.computeIfAbsent(seq, (key) -> new ArrayList<>()).add(command);
		}
		issue();
	}

	// At most one issue waits on the pool at a time: it takes whatever is ready when it runs. None is
	// scheduled when nothing is ready: every change that makes a command ready calls this again. (While an
	// append was on its way, each client message handled meanwhile woke a pool thread that found nothing
	// to do: about one thread hand-off per echoed message, BENCHMARKS §21.)
	private void issue() {
		synchronized (this.lock) {
			if (this.issueScheduled || !somethingReady()) {
				return;
			}
			this.issueScheduled = true;
		}
		this.issuer.execute(() -> {
			List<Runnable> ready = new ArrayList<>();
			synchronized (this.lock) {
				this.issueScheduled = false;
				collectReady(ready);
			}
			ready.forEach(Runnable::run);
		});
	}

	// Called under the lock: whether collectReady would collect anything now.
	private boolean somethingReady() {
		long next = this.issuedThrough + 1;
		return (!this.afterwards.isEmpty() && this.afterwards.firstKey() <= this.issuedThrough)
				|| (this.appendsInFlight == 0 && this.appends.containsKey(next) && !this.held.contains(next));
	}

	// Called under the lock: the appends that are next in order, in batches, each batch followed by what
	// waited for its last message (a command that waits for a message in the middle splits the batch).
	private void collectReady(List<Runnable> ready) {
		collectAfterwards(ready);
		if (this.appendsInFlight > 0) {
			return;
		}
		List<OutboundQueue.Journaled> batch = new ArrayList<>();
		OutboundMessage next;
		while (!this.held.contains(this.issuedThrough + 1)
				&& (next = this.appends.remove(this.issuedThrough + 1)) != null) {
			this.issuedThrough++;
			batch.add(new OutboundQueue.Journaled(this.issuedThrough, next));
			boolean due = !this.afterwards.isEmpty() && this.afterwards.firstKey() <= this.issuedThrough;
			if (due || batch.size() == MAX_BATCH) {
				ready.add(appendCommand(batch, countCarried()));
				batch = new ArrayList<>();
				collectAfterwards(ready);
			}
		}
		if (!batch.isEmpty()) {
			ready.add(appendCommand(batch, countCarried()));
		}
	}

	// Called under the lock, for an append just collected (through issuedThrough): the highest count whose
	// handling sent nothing after it, or -1.
	private long countCarried() {
		NavigableMap<Long, Long> covered = this.countsForAppends.headMap(this.issuedThrough, true);
		long count = covered.isEmpty() ? -1 : Collections.max(covered.values());
		covered.clear();
		return count;
	}

	// Called under the lock.
	private Runnable appendCommand(List<OutboundQueue.Journaled> batch, long handledCount) {
		this.appendsInFlight++;
		return () -> this.store.append(this.sessionId, batch, handledCount).whenComplete((ignored, failure) -> {
			// Confirmed either way: a message the store could not take is written anyway (the store marked
			// the session as not resumable elsewhere), this instance can still resume it.
			for (OutboundQueue.Journaled journaled : batch) {
				CompletableFuture<Void> confirmed = this.unconfirmed.get(journaled.seq());
				if (confirmed != null) {
					confirmed.complete(null);
				}
			}
			boolean lastAnswered;
			List<CountWaiter> countsStored = List.of();
			synchronized (this.lock) {
				this.appendsInFlight--;
				lastAnswered = this.appendsInFlight == 0;
				if (failure == null && handledCount >= 0) {
					// The store has the count it carried: an acknowledgement waiting for it goes now, and
					// one asked for later needs no command of its own.
					countsStored = stored(handledCount);
				}
			}
			countsStored.forEach((waiter) -> waiter.stored().complete(null));
			if (lastAnswered) {
				// What was accepted meanwhile goes now, in one append.
				issue();
			}
		});
	}

	// Called under the lock: the store has `count`. Returns the waiters it satisfies, taken off the list.
	private List<CountWaiter> stored(long count) {
		this.countStored = Math.max(this.countStored, count);
		return waitersThrough(this.countStored);
	}

	// Called under the lock: the waiters for counts up to `count`, taken off the list.
	private List<CountWaiter> waitersThrough(long count) {
		List<CountWaiter> done = new ArrayList<>();
		this.countWaiters.removeIf((waiter) -> waiter.count() <= count && done.add(waiter));
		return done;
	}

	private void collectAfterwards(List<Runnable> ready) {
		while (!this.afterwards.isEmpty() && this.afterwards.firstKey() <= this.issuedThrough) {
			Map.Entry<Long, List<Runnable>> due = this.afterwards.pollFirstEntry();
			ready.addAll(due.getValue());
		}
	}

	private record CountWaiter(long count, CompletableFuture<Void> stored) {
	}

}
