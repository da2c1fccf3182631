package io.resilientws.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;

/**
 * One resuming session's lane to its {@link ResumeStore} in cluster mode: issues the store's commands
 * for the session in the order that makes a takeover exact. Accepted messages are appended in their
 * acceptance order (senders on several threads tell of them out of order), and whatever must come
 * after some of them (the count of client messages before an acknowledgement, the drop of a message,
 * the release in a drain) is issued only after those were. The store's commands go out on one
 * connection in issue order, so Redis applies them in that order too.
 * <p>
 * Commands are issued by one thread at a time and never under the lock: they only queue a command on
 * the store's connection, which does not wait for Redis.
 */
final class SessionJournal implements OutboundQueue.Journal {

	private final ResumeStore store;

	private final String sessionId;

	private final Object lock = new Object();

	/** Appends waiting for an earlier acceptance number, by number. */
	private final TreeMap<Long, Runnable> appends = new TreeMap<>();

	/** Commands waiting until every message up to their key was appended. */
	private final TreeMap<Long, List<Runnable>> afterwards = new TreeMap<>();

	/** Appends not yet confirmed by the store, by acceptance number, until their message is written. */
	private final Map<Long, CompletableFuture<Void>> unconfirmed = new ConcurrentHashMap<>();

	private final Executor pool;

	/** Every message up to this acceptance number has been appended. */
	private long issuedThrough;

	private boolean issuing;

	private boolean again;

	/** @param lastSeq the acceptance number of the last message appended before (of a session taken over) */
	/** @param pool where a confirmed append lets its message be written (not on the store's event loop) */
	SessionJournal(ResumeStore store, String sessionId, long lastSeq, Executor pool) {
		this.store = store;
		this.sessionId = sessionId;
		this.issuedThrough = lastSeq;
		this.pool = pool;
	}

	@Override
	public void accepted(long seq, OutboundMessage message) {
		CompletableFuture<Void> confirmed = confirmation(seq);
		synchronized (this.lock) {
			this.appends.put(seq, () -> this.store.append(this.sessionId, seq, message)
				.whenComplete((ignored, failure) -> confirmed.complete(null)));
		}
		issue();
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
	 * accepted up to {@code seq} (all it sent while handling them) has been appended.
	 * @return completes when the store has it (exceptionally when it could not be stored)
	 */
	CompletableFuture<Void> handled(long count, long seq) {
		CompletableFuture<Void> stored = new CompletableFuture<>();
		after(seq, () -> this.store.received(this.sessionId, count).whenComplete((ignored, failure) -> {
			if (failure != null) {
				stored.completeExceptionally(failure);
			}
			else {
				stored.complete(null);
			}
		}));
		return stored;
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

	// One thread issues at a time, outside the lock; another that finds it busy leaves its work to it.
	private void issue() {
		synchronized (this.lock) {
			if (this.issuing) {
				this.again = true;
				return;
			}
			this.issuing = true;
		}
		while (true) {
			List<Runnable> ready = new ArrayList<>();
			synchronized (this.lock) {
				this.again = false;
				collectReady(ready);
				if (ready.isEmpty()) {
					if (!this.again) {
						this.issuing = false;
						return;
					}
					continue;
				}
			}
			ready.forEach(Runnable::run);
		}
	}

	// Called under the lock: the appends that are next in order, each followed by what waited for it.
	private void collectReady(List<Runnable> ready) {
		collectAfterwards(ready);
		Runnable next;
		while ((next = this.appends.remove(this.issuedThrough + 1)) != null) {
			ready.add(next);
			this.issuedThrough++;
			collectAfterwards(ready);
		}
	}

	private void collectAfterwards(List<Runnable> ready) {
		while (!this.afterwards.isEmpty() && this.afterwards.firstKey() <= this.issuedThrough) {
			Map.Entry<Long, List<Runnable>> due = this.afterwards.pollFirstEntry();
			ready.addAll(due.getValue());
		}
	}

}
