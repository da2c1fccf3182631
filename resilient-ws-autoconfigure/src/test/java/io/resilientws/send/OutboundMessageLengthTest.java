package io.resilientws.send;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.TextMessage;

import static org.assertj.core.api.Assertions.assertThat;

/** Lengths counted without encoding agree with the encoded bytes, whatever the characters. */
class OutboundMessageLengthTest {

	@Test
	void aTextsLengthIsItsUtf8BytesAsSpringCountsThem() {
		Random random = new Random(7);
		for (int i = 0; i < 2_000; i++) {
			StringBuilder text = new StringBuilder();
			int length = random.nextInt(40);
			for (int j = 0; j < length; j++) {
				// ASCII, two- and three-byte characters and pairs of surrogates. No lone surrogate: a received
				// text was decoded from valid UTF-8, so it has none.
				switch (random.nextInt(4)) {
					case 0 -> text.append((char) random.nextInt(0x80));
					case 1 -> text.append((char) (0x80 + random.nextInt(0x780)));
					case 2 -> text.append((char) (0x800 + random.nextInt(0xD000)));
					default -> text.appendCodePoint(0x10000 + random.nextInt(0xFFFFF));
				}
			}
			TextMessage message = new TextMessage(text.toString());
			assertThat(OutboundMessage.payloadLength(message)).as("%s", text)
				.isEqualTo(message.getPayloadLength())
				.isEqualTo(text.toString().getBytes(StandardCharsets.UTF_8).length);
		}
	}

	@Test
	void aBinaryMessagesLengthIsItsRemainingBytes() {
		ByteBuffer payload = ByteBuffer.wrap(new byte[] { 1, 2, 3, 4, 5 });
		payload.position(2);
		assertThat(OutboundMessage.payloadLength(new BinaryMessage(payload))).isEqualTo(3);
	}

}
