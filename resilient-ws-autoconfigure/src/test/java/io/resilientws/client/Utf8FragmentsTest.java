package io.resilientws.client;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class Utf8FragmentsTest {

	private final Utf8Fragments fragments = new Utf8Fragments();

	@Test
	void aCharacterSplitBetweenTwoFramesIsDecodedWithTheSecond() throws Exception {
		byte[] text = "a😀b".getBytes(StandardCharsets.UTF_8);
		// The emoji's four bytes split 2 + 2.
		assertThat(this.fragments.decode(ByteBuffer.wrap(text, 0, 3), false)).isEqualTo("a");
		assertThat(this.fragments.decode(ByteBuffer.wrap(text, 3, text.length - 3), true)).isEqualTo("😀b");
	}

	@Test
	void invalidUtf8IsAnErrorNotAReplacementCharacter() {
		assertThatExceptionOfType(CharacterCodingException.class)
			.isThrownBy(() -> this.fragments.decode(ByteBuffer.wrap(new byte[] { 'a', (byte) 0xC3, 'b' }), true));
	}

	@Test
	void aMessageEndingInTheMiddleOfACharacterIsInvalid() throws Exception {
		byte[] text = "é".getBytes(StandardCharsets.UTF_8);
		assertThat(this.fragments.decode(ByteBuffer.wrap(text, 0, 1), false)).isEmpty();
		assertThatExceptionOfType(CharacterCodingException.class)
			.isThrownBy(() -> this.fragments.decode(ByteBuffer.allocate(0), true));
	}

	@Test
	void theNextMessageStartsClean() throws Exception {
		assertThatExceptionOfType(CharacterCodingException.class)
			.isThrownBy(() -> this.fragments.decode(ByteBuffer.wrap(new byte[] { (byte) 0xFF }), true));
		assertThat(this.fragments.decode(ByteBuffer.wrap("ok".getBytes(StandardCharsets.UTF_8)), true)).isEqualTo("ok");
	}

}
