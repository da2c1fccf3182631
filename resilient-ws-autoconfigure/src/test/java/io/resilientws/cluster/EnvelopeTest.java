package io.resilientws.cluster;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;

import io.resilientws.send.OutboundMessage;
import io.resilientws.server.SessionSelector;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** The message format between instances: what one writes, another reads back the same; anything else is refused. */
class EnvelopeTest {

	private static final SessionSelector EVERY_KIND = SessionSelector.endpoint("/chat")
		.and(SessionSelector.principal("ann").or(SessionSelector.session("s-1")))
		.and(SessionSelector.attributeEquals("room", "42"))
		.or(SessionSelector.all());

	@Test
	void aTextMessageWithEveryKindOfSelectorRoundTrips() {
		Envelope sent = new Envelope("node-1", 1_700_000_000_123_456L, EVERY_KIND, OutboundMessage.unobservedText("héllo ✓"));
		Envelope read = Envelope.decode(sent.encode());
		assertThat(read.origin()).isEqualTo("node-1");
		assertThat(read.publishedMicros()).isEqualTo(1_700_000_000_123_456L);
		assertThat(read.selector()).isEqualTo(EVERY_KIND);
		assertThat(read.message().text()).isEqualTo("héllo ✓");
		assertThat(read.message().isObserved()).isFalse();
	}

	@Test
	void theLoggedFormCarriesThePublicationLogsIdToTheMessage() {
		byte[] plain = new Envelope("node-1", 7, SessionSelector.all(), OutboundMessage.unobservedText("hi")).encode();
		// What the log's script publishes: version 2, the id's length and the id, then version 1 after its first byte.
		byte[] id = "1733456789012-3".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
		ByteBuffer logged = ByteBuffer.allocate(2 + id.length + plain.length - 1);
		logged.put(Envelope.LOGGED).put((byte) id.length).put(id).put(plain, 1, plain.length - 1);
		Envelope read = Envelope.decode(logged.array());
		assertThat(read.message().text()).isEqualTo("hi");
		assertThat(read.message().publication()).isEqualTo("1733456789012-3");
		assertThat(read.message().unobservedCopy().publication()).as("kept by each session's copy").isEqualTo("1733456789012-3");
		assertThat(Envelope.decode(plain).message().publication()).isNull();
	}

	@Test
	void publicationLogIdsCompareByTimeThenSequence() {
		assertThat(PublicationLog.newer("1733456789012-10", "1733456789012-9")).isTrue();
		assertThat(PublicationLog.newer("1733456789013-0", "1733456789012-99")).isTrue();
		assertThat(PublicationLog.newer("1733456789012-9", "1733456789012-9")).isFalse();
		assertThat(PublicationLog.newer("0-0", "1-0")).isFalse();
		assertThat(PublicationLog.newer("5-1", "4-7")).isTrue();
	}

	@Test
	void randomBinaryPayloadsRoundTrip() {
		Random random = new Random(42);
		for (int i = 0; i < 50; i++) {
			byte[] payload = new byte[random.nextInt(70_000)];
			random.nextBytes(payload);
			Envelope sent = new Envelope("n", i, SessionSelector.all(), OutboundMessage.unobservedBinary(ByteBuffer.wrap(payload)));
			ByteBuffer read = Envelope.decode(sent.encode()).message().binary();
			byte[] bytes = new byte[read.remaining()];
			read.get(bytes);
			assertThat(bytes).isEqualTo(payload);
		}
	}

	@Test
	void theEnvelopeIsSmall() {
		byte[] encoded = new Envelope("node-1", 0, SessionSelector.all(), OutboundMessage.unobservedText("x")).encode();
		// version, type, time (8), node id (2 + 6), selector (1), length (4), payload (1)
		assertThat(encoded).hasSize(24);
	}

	@Test
	void anythingElseIsRefused() {
		byte[] good = new Envelope("n", 0, SessionSelector.all(), OutboundMessage.unobservedText("abc")).encode();
		byte[] otherVersion = good.clone();
		otherVersion[0] = 3;
		assertThatIllegalArgumentException().isThrownBy(() -> Envelope.decode(otherVersion)).withMessageContaining("version");
		byte[] truncated = java.util.Arrays.copyOf(good, good.length - 2);
		assertThatIllegalArgumentException().isThrownBy(() -> Envelope.decode(truncated));
		assertThatIllegalArgumentException().isThrownBy(() -> Envelope.decode("not an envelope".getBytes()));
	}

	@Test
	void aSelectorNestedTooDeepIsRefusedNotAStackOverflow() {
		SessionSelector deep = SessionSelector.all();
		for (int i = 0; i < 20; i++) {
			deep = new SessionSelector.AllOf(List.of(deep));
		}
		byte[] encoded = new Envelope("n", 0, deep, OutboundMessage.unobservedText("x")).encode();
		assertThatIllegalArgumentException().isThrownBy(() -> Envelope.decode(encoded)).withMessageContaining("nested");
	}

	@Test
	void failuresInTheLogNeverShowCredentials() {
		RuntimeException failure = new RuntimeException("wrapped",
				new IllegalStateException("Unable to connect to redis://app:s3cret@redis.internal:6379"));
		assertThat(RedisFanout.describe(failure)).doesNotContain("s3cret")
			.contains("IllegalStateException")
			.contains("redis://***@redis.internal:6379");
	}

}
