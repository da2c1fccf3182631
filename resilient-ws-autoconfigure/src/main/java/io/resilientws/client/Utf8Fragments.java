package io.resilientws.client;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import org.jspecify.annotations.Nullable;

/**
 * Decodes the frames of one text message at a time, strictly: a character split between two frames
 * is decoded with the second, and invalid UTF-8 (which RFC 6455 makes a protocol error, 1007) throws
 * instead of turning into replacement characters. Not thread-safe: one connection's reading thread.
 */
final class Utf8Fragments {

	private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
		.onMalformedInput(CodingErrorAction.REPORT)
		.onUnmappableCharacter(CodingErrorAction.REPORT);

	/** The first bytes of a character that the last frame split, to be decoded with the next. */
	private @Nullable ByteBuffer splitCharacter;

	/**
	 * @param bytes the payload of the next frame of the message
	 * @param last whether it ends the message
	 * @return the characters the frame completes
	 * @throws CharacterCodingException when the message is not valid UTF-8 (the decoder is then reset)
	 */
	String decode(ByteBuffer bytes, boolean last) throws CharacterCodingException {
		ByteBuffer split = this.splitCharacter;
		if (split != null) {
			bytes = ByteBuffer.allocate(split.remaining() + bytes.remaining()).put(split).put(bytes).flip();
			this.splitCharacter = null;
		}
		CharBuffer chars = CharBuffer.allocate((int) (bytes.remaining() * (double) this.utf8.maxCharsPerByte()) + 1);
		CoderResult result = this.utf8.decode(bytes, chars, last);
		if (!result.isError() && last) {
			result = this.utf8.flush(chars);
		}
		if (result.isError()) {
			this.utf8.reset();
			result.throwException();
		}
		if (last) {
			this.utf8.reset();
		}
		else if (bytes.hasRemaining()) {
			this.splitCharacter = ByteBuffer.allocate(bytes.remaining()).put(bytes).flip();
		}
		return chars.flip().toString();
	}

}
