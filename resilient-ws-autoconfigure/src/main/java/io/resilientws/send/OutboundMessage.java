package io.resilientws.send;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

import org.jspecify.annotations.Nullable;

/**
 * One queued data message: either text or binary, its size in bytes on the wire (payload only), and
 * the future its sender watches.
 */
public final class OutboundMessage {

	private final @Nullable String text;

	private final @Nullable ByteBuffer binary;

	private final long size;

	final CompletableFuture<Void> delivery = new CompletableFuture<>();

	private OutboundMessage(@Nullable String text, @Nullable ByteBuffer binary, long size) {
		this.text = text;
		this.binary = binary;
		this.size = size;
	}

	public static OutboundMessage text(String text) {
		return new OutboundMessage(text, null, utf8Length(text));
	}

	/** A text message whose UTF-8 size is already known (a broadcast counts it once for all sessions). */
	public static OutboundMessage text(String text, long utf8Size) {
		return new OutboundMessage(text, null, utf8Size);
	}

	/** The UTF-8 size of a text, as {@link #text(String)} counts it. */
	public static long sizeOf(String text) {
		return utf8Length(text);
	}

	/** A binary message; the buffer's remaining bytes are copied, so the caller may reuse it at once. */
	public static OutboundMessage binary(ByteBuffer data) {
		ByteBuffer copy = ByteBuffer.allocate(data.remaining());
		copy.put(data.duplicate()).flip();
		return new OutboundMessage(null, copy.asReadOnlyBuffer(), copy.remaining());
	}

	public boolean isText() {
		return this.text != null;
	}

	/** The text of a text message. */
	public String text() {
		if (this.text == null) {
			throw new IllegalStateException("Not a text message");
		}
		return this.text;
	}

	/** A fresh read-only view of a binary message's bytes. */
	public ByteBuffer binary() {
		if (this.binary == null) {
			throw new IllegalStateException("Not a binary message");
		}
		return this.binary.duplicate();
	}

	/** Payload bytes this message occupies in the send buffer (UTF-8 length for text). */
	public long size() {
		return this.size;
	}

	/** The length of {@code text} in UTF-8 bytes, counted without encoding it. */
	// Counted rather than encoded: the transport encodes the text itself, and the browser's
	// bufferedAmount is defined in UTF-8 bytes too.
	public static long utf8Length(String text) {
		long bytes = 0;
		for (int i = 0; i < text.length(); i++) {
			char c = text.charAt(i);
			if (c < 0x80) {
				bytes += 1;
			}
			else if (c < 0x800) {
				bytes += 2;
			}
			else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
				bytes += 4;
				i++;
			}
			else {
				bytes += 3;
			}
		}
		return bytes;
	}

}
