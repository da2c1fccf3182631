package io.resilientws.cluster;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.resilientws.send.OutboundMessage;
import io.resilientws.server.SessionSelector;

/**
 * One message as it crosses Redis between instances, written and read only here. Big-endian:
 * <pre>
 * byte    version (1)
 * byte    payload type: 0 text (UTF-8), 1 binary
 * long    publish time, microseconds since the epoch (for the latency timer)
 * UTF     origin node id (a node ignores its own messages: it delivered them itself)
 * ...     selector: a tag byte, then its fields (strings as UTF, lists as a count byte and items)
 * int     payload length, then the payload
 * </pre>
 * About 20 bytes plus the node id and the selector's strings around the payload.
 * <p>
 * With resume on, the publication log's script publishes version 2: {@code byte 2}, one byte of length
 * and the log id (ASCII), then version 1's bytes after its version byte. The id reaches the message
 * ({@link OutboundMessage#publication()}).
 *
 * @param origin the publishing node's id
 * @param publishedMicros when it was published
 * @param selector which sessions it is for
 * @param message its payload, unobserved
 */
record Envelope(String origin, long publishedMicros, SessionSelector selector, OutboundMessage message) {

	static final byte VERSION = 1;

	/** Version 1 with the publication log's id in front (written by {@link PublicationLog}'s script only). */
	static final byte LOGGED = 2;

	private static final int MAX_SELECTOR_DEPTH = 8;

	byte[] encode() {
		try {
			byte[] payload = this.message.isText() ? this.message.text().getBytes(StandardCharsets.UTF_8)
					: bytes(this.message.binary());
			ByteArrayOutputStream buffer = new ByteArrayOutputStream(payload.length + 64);
			DataOutputStream out = new DataOutputStream(buffer);
			out.writeByte(VERSION);
			out.writeByte(this.message.isText() ? 0 : 1);
			out.writeLong(this.publishedMicros);
			out.writeUTF(this.origin);
			writeSelector(out, this.selector);
			out.writeInt(payload.length);
			out.write(payload);
			return buffer.toByteArray();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * Reads what {@link #encode()} wrote.
	 * @throws IllegalArgumentException for anything else (another version, a truncated message)
	 */
	static Envelope decode(byte[] data) {
		try {
			DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data));
			byte version = in.readByte();
			String publication = null;
			if (version == LOGGED) {
				publication = new String(in.readNBytes(in.readUnsignedByte()), StandardCharsets.US_ASCII);
			}
			else if (version != VERSION) {
				throw new IllegalArgumentException("Unknown envelope version " + version);
			}
			boolean text = in.readByte() == 0;
			long published = in.readLong();
			String origin = in.readUTF();
			SessionSelector selector = readSelector(in, 0);
			int length = in.readInt();
			if (length < 0 || length > in.available()) {
				throw new IllegalArgumentException("Bad payload length " + length);
			}
			byte[] payload = in.readNBytes(length);
			OutboundMessage message = text ? OutboundMessage.unobservedText(new String(payload, StandardCharsets.UTF_8))
					: OutboundMessage.unobservedBinary(ByteBuffer.wrap(payload));
			return new Envelope(origin, published, selector,
					(publication != null) ? message.published(publication) : message);
		}
		catch (IOException ex) {
			throw new IllegalArgumentException("Truncated envelope", ex);
		}
	}

	private static byte[] bytes(ByteBuffer data) {
		byte[] bytes = new byte[data.remaining()];
		data.get(bytes);
		return bytes;
	}

	private static void writeSelector(DataOutputStream out, SessionSelector selector) throws IOException {
		if (selector instanceof SessionSelector.All) {
			out.writeByte('*');
		}
		else if (selector instanceof SessionSelector.Endpoint endpoint) {
			out.writeByte('e');
			out.writeUTF(endpoint.path());
		}
		else if (selector instanceof SessionSelector.Principal principal) {
			out.writeByte('p');
			out.writeUTF(principal.name());
		}
		else if (selector instanceof SessionSelector.Session session) {
			out.writeByte('s');
			out.writeUTF(session.id());
		}
		else if (selector instanceof SessionSelector.AttributeEquals attribute) {
			out.writeByte('a');
			out.writeUTF(attribute.name());
			out.writeUTF(attribute.value());
		}
		else if (selector instanceof SessionSelector.AllOf all) {
			writeList(out, '&', all.selectors());
		}
		else if (selector instanceof SessionSelector.AnyOf any) {
			writeList(out, '|', any.selectors());
		}
		else {
			throw new IllegalArgumentException("Unknown selector " + selector);
		}
	}

	private static void writeList(DataOutputStream out, char tag, List<SessionSelector> selectors) throws IOException {
		if (selectors.size() > 255) {
			throw new IllegalArgumentException("More than 255 selectors in one combination");
		}
		out.writeByte(tag);
		out.writeByte(selectors.size());
		for (SessionSelector selector : selectors) {
			writeSelector(out, selector);
		}
	}

	private static SessionSelector readSelector(DataInputStream in, int depth) throws IOException {
		// A message from Redis is input like any other: a deep nesting must not cost a stack overflow.
		if (depth > MAX_SELECTOR_DEPTH) {
			throw new IllegalArgumentException("Selector nested deeper than " + MAX_SELECTOR_DEPTH);
		}
		int tag = in.readUnsignedByte();
		return switch (tag) {
			case '*' -> SessionSelector.all();
			case 'e' -> SessionSelector.endpoint(in.readUTF());
			case 'p' -> SessionSelector.principal(in.readUTF());
			case 's' -> SessionSelector.session(in.readUTF());
			case 'a' -> SessionSelector.attributeEquals(in.readUTF(), in.readUTF());
			case '&' -> new SessionSelector.AllOf(readList(in, depth));
			case '|' -> new SessionSelector.AnyOf(readList(in, depth));
			default -> throw new IllegalArgumentException("Unknown selector tag " + tag);
		};
	}

	private static List<SessionSelector> readList(DataInputStream in, int depth) throws IOException {
		int count = in.readUnsignedByte();
		List<SessionSelector> selectors = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			selectors.add(readSelector(in, depth + 1));
		}
		return selectors;
	}

}
