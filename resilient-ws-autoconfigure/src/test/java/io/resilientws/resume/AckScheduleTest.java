package io.resilientws.resume;

import io.resilientws.resume.ResumeFrame.Ack;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AckScheduleTest {

	private static final long MS = 1_000_000L;

	private final AckSchedule schedule = new AckSchedule();

	@Test
	void nothingIsDueWhenNothingWasReceived() {
		assertThat(this.schedule.due(Long.MAX_VALUE / 2)).isFalse();
		assertThat(this.schedule.deadlineNanos()).isEqualTo(Long.MIN_VALUE);
	}

	@Test
	void oneMessageIsAcknowledged100MsAfterItArrived() {
		assertThat(this.schedule.received(10, 1000 * MS)).isEqualTo(1);
		this.schedule.received(10, 1050 * MS);
		assertThat(this.schedule.due(1099 * MS)).isFalse();
		assertThat(this.schedule.deadlineNanos()).isEqualTo(1100 * MS);
		assertThat(this.schedule.due(1100 * MS)).isTrue();
		assertThat(this.schedule.take()).isEqualTo(new Ack(2));
		assertThat(this.schedule.due(5000 * MS)).isFalse();
	}

	@Test
	void sixtyFourMessagesAreAcknowledgedAtOnce() {
		for (int i = 1; i < AckSchedule.MAX_MESSAGES; i++) {
			this.schedule.received(1, 0);
			assertThat(this.schedule.due(0)).isFalse();
		}
		this.schedule.received(1, 0);
		assertThat(this.schedule.due(0)).isTrue();
	}

	@Test
	void sixtyFourKibibytesAreAcknowledgedAtOnce() {
		this.schedule.received(AckSchedule.MAX_BYTES - 1, 0);
		assertThat(this.schedule.due(0)).isFalse();
		this.schedule.received(1, 0);
		assertThat(this.schedule.due(0)).isTrue();
	}

	@Test
	void theCountGoesOnAcrossAcknowledgementsAndTheHandshakeAcknowledgesToo() {
		this.schedule.received(1, 0);
		this.schedule.take();
		this.schedule.received(1, 0);
		this.schedule.received(1, 0);
		assertThat(this.schedule.receivedForHandshake()).isEqualTo(3);
		assertThat(this.schedule.due(Long.MAX_VALUE / 2)).isFalse();
		assertThat(this.schedule.received(1, 0)).isEqualTo(4);
	}

}
