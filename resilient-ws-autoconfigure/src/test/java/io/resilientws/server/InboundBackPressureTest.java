package io.resilientws.server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.resilientws.send.MessageWriter;
import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import io.resilientws.send.OverflowPolicy;
import io.resilientws.send.SendFailure;
import io.resilientws.send.SendLimits;
import io.resilientws.testsupport.ManualTaskScheduler;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pause-and-resume decision on its own: real send queues against a writer whose writes the test
 * completes by hand, time on a manual clock.
 */
class InboundBackPressureTest {

	private static final int LIMIT = 1000;

	private final ManualTaskScheduler scheduler = new ManualTaskScheduler();

	private final InboundBackPressure backPressure = new InboundBackPressure(LIMIT, this.scheduler);

	private final RecordingReader reader = new RecordingReader();

	private final HeldWriter writer = new HeldWriter();

	private final OutboundQueue target = queue(this.writer);

	@Test
	void aMessageThatFillsAProgressingBufferPastHalfPausesItsSenderUntilTheBufferDrains() throws Exception {
		boolean paused = this.backPressure.handle(this.reader, () -> send(this.target, 6));
		assertThat(paused).isTrue();
		assertThat(this.reader.events).containsExactly("suspend");
		this.scheduler.advance(Duration.ofMillis(10));
		this.writer.completeAll();
		assertThat(this.target.bufferedBytes()).isZero();
		// The resume goes through the scheduler, a hop away from the thread that drained the buffer.
		assertThat(this.reader.events).containsExactly("suspend");
		this.scheduler.advance(Duration.ZERO);
		assertThat(this.reader.events).containsExactly("suspend", "resume");
		// The cap finds the reader resumed already: it is not resumed twice.
		this.scheduler.advance(InboundBackPressure.MAX_PAUSE);
		assertThat(this.reader.events).containsExactly("suspend", "resume");
	}

	@Test
	void aBufferThatDoesNotDrainKeepsItsSenderPausedForAtMostTheCap() throws Exception {
		this.backPressure.handle(this.reader, () -> send(this.target, 6));
		this.scheduler.advance(InboundBackPressure.MAX_PAUSE.minusMillis(1));
		assertThat(this.reader.events).containsExactly("suspend");
		this.scheduler.advance(Duration.ofMillis(1));
		assertThat(this.reader.events).containsExactly("suspend", "resume");
	}

	@Test
	void aBufferWhoseWriteIsStuckPausesNobodyAndOverflowsAsBefore() throws Exception {
		send(this.target, 5);
		this.scheduler.advance(InboundBackPressure.PROGRESS_WINDOW);
		boolean paused = this.backPressure.handle(this.reader, () -> send(this.target, 1));
		assertThat(paused).isFalse();
		assertThat(this.reader.events).isEmpty();
		assertThat(this.target.offerAndForget(OutboundMessage.unobservedText("x".repeat(500)))).isFalse();
	}

	@Test
	void aWriteJustStartedIsProgressingEvenAfterALongOneBefore() throws Exception {
		send(this.target, 5);
		this.scheduler.advance(InboundBackPressure.PROGRESS_WINDOW.plusMillis(50));
		// The stuck-looking write completes and the next one starts now: progressing again.
		this.writer.completeNext();
		boolean paused = this.backPressure.handle(this.reader, () -> send(this.target, 1));
		assertThat(paused).isTrue();
	}

	@Test
	void aBufferBelowHalfPausesNobody() throws Exception {
		boolean paused = this.backPressure.handle(this.reader, () -> send(this.target, 4));
		assertThat(paused).isFalse();
		assertThat(this.reader.events).isEmpty();
	}

	@Test
	void sendsOutsideTheHandlingOfAnInboundMessagePauseNobody() throws Exception {
		send(this.target, 9);
		boolean paused = this.backPressure.handle(this.reader, () -> {
		});
		assertThat(paused).isFalse();
		assertThat(this.reader.events).isEmpty();
	}

	@Test
	void aSenderIsResumedOnlyWhenEveryBufferItFilledHasDrained() throws Exception {
		HeldWriter otherWriter = new HeldWriter();
		OutboundQueue other = queue(otherWriter);
		this.backPressure.handle(this.reader, () -> {
			send(this.target, 6);
			send(other, 6);
		});
		this.writer.completeAll();
		assertThat(this.reader.events).containsExactly("suspend");
		otherWriter.completeAll();
		this.scheduler.advance(Duration.ZERO);
		assertThat(this.reader.events).containsExactly("suspend", "resume");
	}

	@Test
	void aReaderThatCannotBeSuspendedIsLeftAlone() throws Exception {
		this.reader.suspendable = false;
		boolean paused = this.backPressure.handle(this.reader, () -> send(this.target, 6));
		assertThat(paused).isFalse();
		this.scheduler.advance(InboundBackPressure.MAX_PAUSE);
		assertThat(this.reader.events).isEmpty();
	}

	private OutboundQueue queue(MessageWriter writer) {
		OutboundQueue queue = new OutboundQueue(new SendLimits(LIMIT, OverflowPolicy.REJECT, Duration.ZERO, 0, 0),
				this.scheduler, Runnable::run, new OutboundQueue.Observer() {
					@Override
					public void undelivered(SendFailure reason) {
					}

					@Override
					public void overflowClose() {
					}
				});
		queue.attach(writer);
		return queue;
	}

	/** Sends {@code count} messages of 100 bytes, as ManagedSession does. */
	private void send(OutboundQueue queue, int count) {
		for (int i = 0; i < count; i++) {
			if (queue.offerAndForget(OutboundMessage.unobservedText("x".repeat(100)))) {
				this.backPressure.accepted(queue);
			}
		}
	}

	static final class RecordingReader implements InboundBackPressure.Reader {

		final List<String> events = new ArrayList<>();

		boolean suspendable = true;

		@Override
		public boolean suspend() {
			if (this.suspendable) {
				this.events.add("suspend");
			}
			return this.suspendable;
		}

		@Override
		public void resume() {
			this.events.add("resume");
		}

	}

	static final class HeldWriter implements MessageWriter {

		private final List<CompletableFuture<Void>> pending = new ArrayList<>();

		@Override
		public synchronized CompletableFuture<?> write(OutboundMessage message) {
			CompletableFuture<Void> write = new CompletableFuture<>();
			this.pending.add(write);
			return write;
		}

		void completeNext() {
			CompletableFuture<Void> next;
			synchronized (this) {
				next = this.pending.remove(0);
			}
			next.complete(null);
		}

		void completeAll() {
			while (true) {
				synchronized (this) {
					if (this.pending.isEmpty()) {
						return;
					}
				}
				completeNext();
			}
		}

	}

}
