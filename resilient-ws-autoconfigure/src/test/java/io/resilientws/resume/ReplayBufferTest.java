package io.resilientws.resume;

import java.util.List;

import io.resilientws.resume.ReplayBuffer.Entry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class ReplayBufferTest {

	private final ReplayBuffer<String> buffer = new ReplayBuffer<>(10);

	@Test
	void messagesAreNumberedFromOneAsTheyAreWritten() {
		assertThat(this.buffer.written("a", 1)).isEqualTo(1);
		assertThat(this.buffer.written("b", 1)).isEqualTo(2);
		assertThat(this.buffer.lastWritten()).isEqualTo(2);
	}

	@Test
	void anAcknowledgementReturnsWhatItCoversOldestFirstAndFreesItsBytes() {
		write("a", "b", "c");
		assertThat(this.buffer.acknowledge(2)).containsExactly("a", "b");
		assertThat(this.buffer.unacknowledgedBytes()).isEqualTo(1);
		assertThat(this.buffer.acknowledge(2)).isEmpty();
		assertThat(this.buffer.acknowledge(3)).containsExactly("c");
		assertThat(this.buffer.unacknowledgedBytes()).isZero();
	}

	@Test
	void aResumeWritesAgainWhatThePeerDoesNotHaveWithTheSameOffsets() {
		write("a", "b", "c", "d");
		this.buffer.acknowledge(1);
		// The peer says in its R that it has two.
		assertThat(this.buffer.acknowledge(2)).containsExactly("b");
		assertThat(this.buffer.unacknowledged()).containsExactly(new Entry<>(3, "c", 1), new Entry<>(4, "d", 1));
		// Numbering goes on after the resent ones.
		assertThat(this.buffer.written("e", 1)).isEqualTo(5);
	}

	@Test
	void anAcknowledgementThatGoesBackOrCountsTooManyIsAProtocolError() {
		write("a", "b");
		this.buffer.acknowledge(2);
		assertThatExceptionOfType(ResumeProtocolException.class).isThrownBy(() -> this.buffer.acknowledge(1));
		assertThatExceptionOfType(ResumeProtocolException.class).isThrownBy(() -> this.buffer.acknowledge(3));
		assertThat(this.buffer.acknowledged()).isEqualTo(2);
	}

	@Test
	void pastTheLimitTheSessionCanNoLongerBeResumed() {
		this.buffer.written("big", 10);
		assertThat(this.buffer.overLimit()).isFalse();
		this.buffer.written("one more", 1);
		assertThat(this.buffer.overLimit()).isTrue();
		this.buffer.acknowledge(1);
		assertThat(this.buffer.overLimit()).isFalse();
	}

	@Test
	void discardingReturnsEveryUnacknowledgedMessageToFail() {
		write("a", "b", "c");
		this.buffer.acknowledge(1);
		assertThat(this.buffer.discard()).containsExactly("b", "c");
		assertThat(this.buffer.unacknowledged()).isEmpty();
		assertThat(this.buffer.unacknowledgedBytes()).isZero();
	}

	private void write(String... messages) {
		List.of(messages).forEach((message) -> this.buffer.written(message, 1));
	}

}
