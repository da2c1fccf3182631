package io.resilientws.server;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@link SessionJournal} gives its store, command by command, checked as an instance that dies
 * after any of them would leave it: whatever the session's handler sent to its own session while it
 * handled a client message is never in the store without the count that includes that message
 * (docs/RESUME-PROTOCOL.md §7). Otherwise the instance that takes the session over asks the client for
 * that message again, its handler handles it a second time, and the client gets the answer twice.
 */
class SessionJournalTest {

	private final RecordingStore store = new RecordingStore();

	/** Tasks the journal gave its pool. */
	private final AtomicInteger poolTasks = new AtomicInteger();

	// Commands are issued on the calling thread: the order of the calls below is the order of the commands.
	private final SessionJournal journal = new SessionJournal(this.store, "session", 0, (task) -> {
		this.poolTasks.incrementAndGet();
		task.run();
	});

	/** Which client message's handling sent each answer, by acceptance number. */
	private final Map<Long, Long> answerOf = new HashMap<>();

	private long seq;

	/**
	 * ClusterJarIT: the page's lines "said 420" to "said 479" came back twice after its instance was
	 * SIGKILLed. One append was on its way while the handler answered more than 64 messages; the next
	 * round took them in two appends, and only the second carried the count. Redis had applied the first
	 * (60 answers, replayed by the next instance) and not the second (the count stayed at 420).
	 */
	@Test
	void answersCutIntoSeveralAppendsEachGoWithTheCountOfTheirMessages() {
		this.store.holdNextAppend();
		handle(1);
		for (long message = 2; message <= 150; message++) {
			handle(message);
		}
		this.store.releaseHeldAppend();

		assertThat(this.store.appendedThrough()).isEqualTo(150);
		assertThat(this.store.appends()).as("more than one append after the one on its way").hasSizeGreaterThan(2);
		assertEveryPrefixHasTheCountsOfItsAnswers();
	}

	/**
	 * A message for the session from elsewhere (another instance's publication, on Lettuce's thread) is
	 * accepted after the handler's answer and before the handler returns: an append that ends with the
	 * answer still carries the count of that answer's message.
	 */
	@Test
	void anAppendThatEndsWithAnAnswerCarriesItsCountThoughLaterMessagesWereAcceptedBeforeTheHandlerReturned() {
		this.store.holdNextAppend();
		handle(1);
		// Shifts what follows so that appends of 64 end with an answer, the other sender's message after it.
		acceptFromElsewhere();
		for (long message = 2; message <= 150; message++) {
			handling(message);
			acceptFromElsewhere();
			this.journal.handledNow(message, this.seq);
		}
		this.store.releaseHeldAppend();

		assertThat(this.store.appendedThrough()).isEqualTo(this.seq);
		assertEveryPrefixHasTheCountsOfItsAnswers();
	}

	/**
	 * BENCHMARKS §21: each client message handled while the session's append was on its way woke a pool
	 * thread that found nothing to issue (the next append waits for the answer to the one on its way): a
	 * thread hand-off per echoed message, which cost the cluster resume echo more CPU than the journal's
	 * own work. Now the pool runs again when the store answers, and takes them all.
	 */
	@Test
	void messagesHandledWhileAnAppendIsOnItsWayGiveThePoolNothingToDoUntilItIsAnswered() {
		this.store.holdNextAppend();
		handle(1);
		int tasksBefore = this.poolTasks.get();
		for (long message = 2; message <= 50; message++) {
			handle(message);
		}

		assertThat(this.poolTasks.get() - tasksBefore).as("pool tasks while the append was on its way").isZero();
		this.store.releaseHeldAppend();
		assertThat(this.store.appendedThrough()).isEqualTo(50);
		assertThat(this.store.appends()).hasSize(2);
		assertEveryPrefixHasTheCountsOfItsAnswers();
	}

	/**
	 * An acknowledgement waits until the store has the count it acknowledges. The count went to the store
	 * with the handler's answers; once that append is confirmed the store has it, and storing it again cost
	 * a command and a round trip to Redis for each acknowledgement (every 64 client messages), which the
	 * acknowledgement waited for.
	 */
	@Test
	void aCountAConfirmedAppendCarriedIsNotStoredAgainForTheAcknowledgement() {
		handle(1);
		handle(2);

		CompletableFuture<Void> stored = this.journal.handled(2, this.seq);

		assertThat(stored).isCompleted();
		assertThat(this.store.commands).as("commands").containsExactlyElementsOf(this.store.appends());
		assertThat(this.store.appends()).extracting(Command::count).containsExactly(1L, 2L);
	}

	// The handler handles client message number `message` and answers it to its own session.
	private void handle(long message) {
		handling(message);
		this.journal.handledNow(message, this.seq);
	}

	private void handling(long message) {
		this.journal.handling();
		this.seq++;
		this.answerOf.put(this.seq, message);
		this.journal.accepted(this.seq, OutboundMessage.unobservedText("said " + message));
	}

	// Accepted on a thread that handles nothing of this session's.
	private void acceptFromElsewhere() {
		long accepted = ++this.seq;
		CompletableFuture
			.runAsync(() -> this.journal.accepted(accepted, OutboundMessage.unobservedText("bob " + accepted)))
			.join();
	}

	// As if the instance died after each of the store's commands.
	private void assertEveryPrefixHasTheCountsOfItsAnswers() {
		long count = 0;
		long answered = 0;
		for (Command command : this.store.commands) {
			count = Math.max(count, command.count());
			for (long journaled : command.seqs()) {
				answered = Math.max(answered, this.answerOf.getOrDefault(journaled, 0L));
			}
			assertThat(count).as("the count stored once %s is applied, which journals answers to messages up to %d",
					command, answered).isGreaterThanOrEqualTo(answered);
		}
	}

	/** An append (with the seqs it journals) or a stored count, in the order the store got them. */
	private record Command(List<Long> seqs, long count) {

		@Override
		public String toString() {
			return this.seqs.isEmpty() ? "the count " + this.count
					: "the append of " + this.seqs.get(0) + ".." + this.seqs.get(this.seqs.size() - 1) + " with the count "
							+ this.count;
		}

	}

	private static final class RecordingStore implements ResumeStore {

		private final List<Command> commands = new ArrayList<>();

		private boolean holdNext;

		private CompletableFuture<Void> held;

		@Override
		public boolean shared() {
			return true;
		}

		/** The next append stays on its way until {@link #releaseHeldAppend}. */
		void holdNextAppend() {
			this.holdNext = true;
		}

		void releaseHeldAppend() {
			this.held.complete(null);
		}

		@Override
		public synchronized CompletableFuture<?> append(String sessionId, List<OutboundQueue.Journaled> messages,
				long handledCount) {
			this.commands.add(new Command(messages.stream().map(OutboundQueue.Journaled::seq).toList(), handledCount));
			if (this.holdNext) {
				this.holdNext = false;
				this.held = new CompletableFuture<>();
				return this.held;
			}
			return CompletableFuture.completedFuture(null);
		}

		@Override
		public synchronized CompletableFuture<?> received(String sessionId, long clientCount) {
			this.commands.add(new Command(List.of(), clientCount));
			return CompletableFuture.completedFuture(null);
		}

		synchronized List<Command> appends() {
			return this.commands.stream().filter((command) -> !command.seqs().isEmpty()).toList();
		}

		synchronized long appendedThrough() {
			return this.commands.stream().flatMap((command) -> command.seqs().stream()).mapToLong(Long::longValue).max()
				.orElse(0);
		}

	}

}
