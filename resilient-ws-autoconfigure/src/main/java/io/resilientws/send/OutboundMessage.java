package io.resilientws.send;

import java.nio.ByteBuffer;

import io.resilientws.resume.ResumeWire;
import org.jspecify.annotations.Nullable;

import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketMessage;

/**
 * One queued data message: either text or binary, its size in bytes on the wire (payload only), and
 * the future its sender watches.
 * <p>
 * An <em>unobserved</em> message has no such future: it is for senders that throw the outcome away
 * (Spring's void {@code sendMessage}, a broadcast, heartbeats). What becomes of it reaches only the
 * queue's {@link OutboundQueue.Observer} (counters, events), so its write costs no hand-off to the
 * completions executor. Offer it with {@link OutboundQueue#offerAndForget}.
 */
public final class OutboundMessage {

	private final @Nullable String text;

	private final @Nullable ByteBuffer binary;

	private final long size;

	private final boolean observed;

	/** Whether this is a control message of the resume protocol: never numbered, escaped or replayed. */
	private final boolean control;

	/**
	 * Cluster mode with resume: the id the cluster's publication log gave this message when another
	 * instance published it (a session's journal remembers the newest it has); null otherwise.
	 */
	private final @Nullable String publication;

	/**
	 * In resume mode, the offset the queue gave this data message when it was first written; 0 before
	 * (docs/RESUME-PROTOCOL.md §3). Guarded by the queue's lock.
	 */
	long offset;

	/** With a journal (resume across instances), the number the queue gave this message when it accepted it; 0 otherwise. */
	long seq;

	/** With a journal, set once the journal has confirmed this message (it is then written as often as needed). */
	boolean journaled;

	/** Made by the queue that accepts an observed message; null for an unobserved one. */
	@Nullable DeliveryFuture delivery;

	private OutboundMessage(@Nullable String text, @Nullable ByteBuffer binary, long size, boolean observed) {
		this(text, binary, size, observed, false, null);
	}

	private OutboundMessage(@Nullable String text, @Nullable ByteBuffer binary, long size, boolean observed,
			boolean control, @Nullable String publication) {
		this.text = text;
		this.binary = binary;
		this.size = size;
		this.observed = observed;
		this.control = control;
		this.publication = publication;
	}

	/**
	 * A control message of the resume protocol (an acknowledgement, the session answer): written ahead
	 * of queued data, never numbered, escaped or kept for a resend. Offer it with
	 * {@link OutboundQueue#offerControl}.
	 */
	public static OutboundMessage control(String text) {
		return new OutboundMessage(text, null, text.length(), false, true, null);
	}

	public static OutboundMessage text(String text) {
		return new OutboundMessage(text, null, utf8Length(text), true);
	}

	/** A text message whose UTF-8 size is already known (a broadcast counts it once for all sessions). */
	public static OutboundMessage text(String text, long utf8Size) {
		return new OutboundMessage(text, null, utf8Size, true);
	}

	/** A text message without a delivery future, for a sender that does not look at the outcome. */
	public static OutboundMessage unobservedText(String text) {
		return new OutboundMessage(text, null, utf8Length(text), false);
	}

	/** An unobserved text message whose UTF-8 size is already known. */
	public static OutboundMessage unobservedText(String text, long utf8Size) {
		return new OutboundMessage(text, null, utf8Size, false);
	}

	/** The UTF-8 size of a text, as {@link #text(String)} counts it. */
	public static long sizeOf(String text) {
		return utf8Length(text);
	}

	/** A binary message; the buffer's remaining bytes are copied, so the caller may reuse it at once. */
	public static OutboundMessage binary(ByteBuffer data) {
		return binary(data, true);
	}

	/** A binary message without a delivery future; the bytes are copied as by {@link #binary(ByteBuffer)}. */
	public static OutboundMessage unobservedBinary(ByteBuffer data) {
		return binary(data, false);
	}

	private static OutboundMessage binary(ByteBuffer data, boolean observed) {
		ByteBuffer copy = ByteBuffer.allocate(data.remaining());
		copy.put(data.duplicate()).flip();
		return new OutboundMessage(null, copy.asReadOnlyBuffer(), copy.remaining(), observed);
	}

	/**
	 * An unobserved message with the same payload (shared, not copied): one for each session a
	 * broadcast reaches, since a queue owns the message objects it holds.
	 */
	public OutboundMessage unobservedCopy() {
		return new OutboundMessage(this.text, this.binary, this.size, false, false, this.publication);
	}

	/** An unobserved copy that carries the id the cluster's publication log gave it. */
	public OutboundMessage published(String publicationId) {
		return new OutboundMessage(this.text, this.binary, this.size, false, false, publicationId);
	}

	/** The publication log's id of a message another instance published; null for any other. */
	public @Nullable String publication() {
		return this.publication;
	}

	/** Whether a sender watches this message's delivery (false for an unobserved message). */
	public boolean isObserved() {
		return this.observed;
	}

	/**
	 * The wire form of this data message in resume mode: itself, or an unobserved copy with a NUL in
	 * front when it starts with NUL (docs/RESUME-PROTOCOL.md §2).
	 */
	OutboundMessage escapedForResume() {
		if (this.text != null) {
			String escaped = ResumeWire.escape(this.text);
			return (escaped == this.text) ? this : new OutboundMessage(escaped, null, this.size, false);
		}
		ByteBuffer bytes = binary();
		if (!bytes.hasRemaining() || bytes.get(bytes.position()) != 0) {
			return this;
		}
		return new OutboundMessage(null, ResumeWire.escape(bytes), this.size, false);
	}

	/** Whether this is a control message of the resume protocol ({@link #control(String)}). */
	public boolean isControl() {
		return this.control;
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

	/**
	 * The length of a received message's payload in bytes, a text's counted without encoding it: Spring's
	 * {@code TextMessage.getPayloadLength()} encodes the whole text again on every call.
	 */
	public static long payloadLength(WebSocketMessage<?> message) {
		return (message instanceof TextMessage text) ? utf8Length(text.getPayload()) : message.getPayloadLength();
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
