package io.resilientws.resume;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import io.resilientws.resume.ResumeFrame.Ack;
import io.resilientws.resume.ResumeFrame.Hello;
import io.resilientws.resume.ResumeFrame.New;
import io.resilientws.resume.ResumeFrame.RefusalReason;
import io.resilientws.resume.ResumeFrame.Resume;
import io.resilientws.resume.ResumeFrame.Session;
import io.resilientws.resume.ResumeWire.Inbound;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class ResumeWireTest {

	private static final String TOKEN = "AAAAAAAAAAAAAAAAAAAAAA";

	@Test
	void dataThatDoesNotStartWithNulGoesOutAsItIs() {
		assertThat(ResumeWire.escape("hello")).isEqualTo("hello");
		assertThat(ResumeWire.escape("")).isEqualTo("");
		assertThat(ResumeWire.read("hello")).isEqualTo(new Inbound.Data("hello"));
		assertThat(ResumeWire.read("")).isEqualTo(new Inbound.Data(""));
	}

	@Test
	void randomTextsCostAtMostOneUnitAndComeBackUnchanged() {
		Random random = new Random(13);
		for (int i = 0; i < 10_000; i++) {
			StringBuilder text = new StringBuilder();
			int length = random.nextInt(8);
			for (int j = 0; j < length; j++) {
				// NUL, letters and spaces: the characters the control syntax is made of.
				text.append("\u0000\u0000AHNRS 1".charAt(random.nextInt(9)));
			}
			String wire = ResumeWire.escape(text.toString());
			assertThat(wire.length() - text.length()).isBetween(0, 1);
			assertThat(ResumeWire.read(wire)).isEqualTo(new Inbound.Data(text.toString()));
		}
	}

	@Test
	void randomBinaryMessagesCostAtMostOneByteAndComeBackUnchanged() {
		Random random = new Random(17);
		for (int i = 0; i < 10_000; i++) {
			byte[] data = new byte[random.nextInt(6)];
			for (int j = 0; j < data.length; j++) {
				data[j] = (byte) random.nextInt(3);
			}
			ByteBuffer wire = ResumeWire.escape(ByteBuffer.wrap(data));
			assertThat(wire.remaining() - data.length).isBetween(0, 1);
			assertThat(ResumeWire.read(wire)).isEqualTo(ByteBuffer.wrap(data));
		}
	}

	@Test
	void everyControlMessageReadsBackAsWritten() {
		for (ResumeFrame frame : new ResumeFrame[] { new Hello(), new New(), new Resume(TOKEN, 0),
				new Resume(TOKEN, ResumeWire.MAX_OFFSET), new Session(TOKEN, 42, true, null),
				new Session(TOKEN, 0, false, null), new Session(TOKEN, 0, false, RefusalReason.EXPIRED),
				new Session(TOKEN, 0, false, RefusalReason.REUSED), new Ack(1), new Ack(0) }) {
			String wire = ResumeWire.write(frame);
			assertThat(wire).startsWith("\u0000");
			assertThat(ResumeWire.read(wire)).isEqualTo(new Inbound.Control(frame));
		}
	}

	@Test
	void controlMessagesAreAsTheSpecificationWritesThem() {
		assertThat(ResumeWire.write(new Hello())).isEqualTo("\u0000H");
		assertThat(ResumeWire.write(new Resume(TOKEN, 7))).isEqualTo("\u0000R " + TOKEN + " 7");
		assertThat(ResumeWire.write(new Session(TOKEN, 3, false, RefusalReason.OVERFLOW)))
			.isEqualTo("\u0000S " + TOKEN + " 3 0 overflow");
		assertThat(ResumeWire.write(new Ack(1234))).isEqualTo("\u0000A 1234");
		assertThat(ResumeWire.write(new Ack(1234)).getBytes(StandardCharsets.UTF_8)).hasSize(7);
	}

	@Test
	void aMalformedControlMessageIsAProtocolErrorThatDoesNotRepeatIt() {
		String secret = "SECRETSECRETSECRETSECRET";
		for (String bad : new String[] { "\u0000", "\u0000X", "\u0000\u0001", "\u0000H ", "\u0000Hx", "\u0000N 1",
				"\u0000A", "\u0000A ", "\u0000A 01", "\u0000A -1", "\u0000A 1 2", "\u0000A  1", "\u0000A 9007199254740992",
				"\u0000R " + secret, "\u0000R " + secret + " x", "\u0000R short 1", "\u0000R " + secret + "! 1",
				"\u0000S " + secret + " 0 2", "\u0000S " + secret + " 0 1 expired", "\u0000S " + secret + " 0 0 " + secret,
				"\u0000A " + "1".repeat(200) }) {
			assertThatExceptionOfType(ResumeProtocolException.class).as(bad.replace('\u0000', '~'))
				.isThrownBy(() -> ResumeWire.read(bad))
				.satisfies((ex) -> assertThat(ex.getMessage()).doesNotContain(secret).doesNotContain("1111"));
		}
	}

	@Test
	void aBinaryMessageThatStartsWithOneNulIsAProtocolError() {
		assertThatExceptionOfType(ResumeProtocolException.class)
			.isThrownBy(() -> ResumeWire.read(ByteBuffer.wrap(new byte[] { 0, 'H' })));
		assertThatExceptionOfType(ResumeProtocolException.class)
			.isThrownBy(() -> ResumeWire.read(ByteBuffer.wrap(new byte[] { 0 })));
	}

	@Test
	void readingABinaryMessageLeavesTheBufferAsItWas() {
		ByteBuffer data = ByteBuffer.wrap(new byte[] { 0, 0, 5 });
		assertThat(ResumeWire.read(data)).isEqualTo(ByteBuffer.wrap(new byte[] { 0, 5 }));
		assertThat(data.position()).isZero();
		ByteBuffer original = ByteBuffer.wrap(new byte[] { 0, 5 });
		ResumeWire.escape(original);
		assertThat(original.remaining()).isEqualTo(2);
	}

	@Test
	void theCodecRefusesToWriteWhatAPeerCouldNotRead() {
		assertThatIllegalArgumentException().isThrownBy(() -> ResumeWire.write(new Ack(-1)));
		assertThatIllegalArgumentException().isThrownBy(() -> ResumeWire.write(new Ack(ResumeWire.MAX_OFFSET + 1)));
		assertThatIllegalArgumentException().isThrownBy(() -> ResumeWire.write(new Resume("has space " + TOKEN, 1)));
	}

	@Test
	void tokensAreUnguessableBase64urlOf128Bits() {
		SecureRandom random = new SecureRandom();
		Set<String> seen = new HashSet<>();
		for (int i = 0; i < 1000; i++) {
			String token = ResumeWire.newToken(random);
			assertThat(token).hasSize(22).matches("[A-Za-z0-9_-]+");
			assertThat(seen.add(token)).isTrue();
			assertThat(ResumeWire.read(ResumeWire.write(new Resume(token, 0))))
				.isEqualTo(new Inbound.Control(new Resume(token, 0)));
		}
	}

	@Test
	void framesThatCarryATokenNeverShowIt() {
		assertThat(new Resume(TOKEN, 1).toString()).doesNotContain(TOKEN);
		assertThat(new Session(TOKEN, 1, true, null).toString()).doesNotContain(TOKEN);
	}

	@Test
	void whatAControlMessageAcknowledgesIsTheCountOfAnAOrAnSAndNothingElse() {
		assertThat(ResumeWire.acknowledgedBy(ResumeWire.write(new Ack(127)))).isEqualTo(127);
		assertThat(ResumeWire.acknowledgedBy(ResumeWire.write(new Session(TOKEN, 700, true, null)))).isEqualTo(700);
		assertThat(ResumeWire.acknowledgedBy(ResumeWire.write(new Session(TOKEN, 0, false, RefusalReason.EXPIRED))))
			.isZero();
		assertThat(ResumeWire.acknowledgedBy(ResumeWire.write(new Hello()))).isEqualTo(-1);
		assertThat(ResumeWire.acknowledgedBy(ResumeWire.write(new Resume(TOKEN, 5)))).isEqualTo(-1);
		assertThat(ResumeWire.acknowledgedBy("A 127")).as("data, not a control message").isEqualTo(-1);
	}

}
