package io.resilientws.resume;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

import io.resilientws.resume.ResumeFrame.Ack;
import io.resilientws.resume.ResumeFrame.Hello;
import io.resilientws.resume.ResumeFrame.New;
import io.resilientws.resume.ResumeFrame.RefusalReason;
import io.resilientws.resume.ResumeFrame.Resume;
import io.resilientws.resume.ResumeFrame.Session;

/**
 * The one place the resume protocol's messages are written and read (docs/RESUME-PROTOCOL.md §2).
 * A data message goes out as it is unless it starts with NUL (then one NUL is put in front); a
 * control message is NUL, a letter and space-separated fields. So the envelope costs 0 bytes per
 * data message, 1 for one that starts with NUL.
 */
public final class ResumeWire {

	/** The query parameter a client adds to the WebSocket URL to ask for resume, and its value. */
	public static final String QUERY_PARAMETER = "rws-resume";

	/** The protocol version this code speaks: the value of {@link #QUERY_PARAMETER}. */
	public static final String VERSION = "1";

	/** The largest offset: the largest integer a JavaScript number holds exactly. */
	public static final long MAX_OFFSET = (1L << 53) - 1;

	/**
	 * The close code a resuming client sends on a connection it gives up for lost (a heartbeat death seen
	 * from its side): the session waits for its resume instead of ending. Browsers can close only with
	 * 1000 or 3000-4999, and cannot drop a connection without a close frame.
	 */
	public static final int CONNECTION_GIVEN_UP = 3006;

	/** Longer than any valid control message: one that is longer is refused before it is parsed. */
	static final int MAX_CONTROL_LENGTH = 160;

	private static final char NUL = '\u0000';

	private static final Pattern NUMBER = Pattern.compile("0|[1-9][0-9]{0,15}");

	private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{22,86}");

	private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

	private ResumeWire() {
	}

	/** What one inbound text message is: application data (already unescaped) or a control message. */
	public sealed interface Inbound {

		/** An application's text, as the peer's application sent it. */
		record Data(String text) implements Inbound {
		}

		/** A control message. */
		record Control(ResumeFrame frame) implements Inbound {
		}

	}

	/** A new resume token: 128 random bits, base64url (22 characters). */
	public static String newToken(SecureRandom random) {
		byte[] bits = new byte[16];
		random.nextBytes(bits);
		return BASE64URL.encodeToString(bits);
	}

	/** The wire form of an application's text. */
	public static String escape(String text) {
		return (!text.isEmpty() && text.charAt(0) == NUL) ? NUL + text : text;
	}

	/** The wire form of an application's binary message; {@code data} itself is not consumed. */
	public static ByteBuffer escape(ByteBuffer data) {
		if (!data.hasRemaining() || data.get(data.position()) != 0) {
			return data.duplicate();
		}
		ByteBuffer escaped = ByteBuffer.allocate(data.remaining() + 1);
		escaped.put((byte) 0).put(data.duplicate()).flip();
		return escaped;
	}

	/** Reads an inbound text message. */
	public static Inbound read(String text) {
		if (text.isEmpty() || text.charAt(0) != NUL) {
			return new Inbound.Data(text);
		}
		if (text.length() > 1 && text.charAt(1) == NUL) {
			return new Inbound.Data(text.substring(1));
		}
		return new Inbound.Control(control(text));
	}

	/**
	 * Reads an inbound binary message: the application's bytes (a view of {@code data}, unescaped).
	 * Control messages are text only, so a binary message that starts with one NUL breaks the protocol.
	 */
	public static ByteBuffer read(ByteBuffer data) {
		if (!data.hasRemaining() || data.get(data.position()) != 0) {
			return data.duplicate();
		}
		if (data.remaining() > 1 && data.get(data.position() + 1) == 0) {
			ByteBuffer unescaped = data.duplicate();
			unescaped.position(unescaped.position() + 1);
			return unescaped.slice();
		}
		throw new ResumeProtocolException("a binary message starts with one NUL byte; control messages are text");
	}

	/** The wire form of a control message. */
	public static String write(ResumeFrame frame) {
		StringBuilder out = new StringBuilder(64).append(NUL);
		if (frame instanceof Hello) {
			out.append('H');
		}
		else if (frame instanceof New) {
			out.append('N');
		}
		else if (frame instanceof Resume resume) {
			out.append("R ").append(token(resume.token())).append(' ').append(offset(resume.received()));
		}
		else if (frame instanceof Session session) {
			out.append("S ").append(token(session.token())).append(' ').append(offset(session.received()))
				.append(' ').append(session.recovered() ? '1' : '0');
			if (session.reason() != null) {
				out.append(' ').append(session.reason().wireName());
			}
		}
		else if (frame instanceof Ack ack) {
			out.append("A ").append(offset(ack.received()));
		}
		return out.toString();
	}

	private static ResumeFrame control(String text) {
		if (text.length() > MAX_CONTROL_LENGTH) {
			throw new ResumeProtocolException("a control message is longer than " + MAX_CONTROL_LENGTH + " characters");
		}
		if (text.length() < 2) {
			throw new ResumeProtocolException("a text message is only NUL");
		}
		char kind = text.charAt(1);
		String[] fields = fields(text);
		return switch (kind) {
			case 'H' -> {
				expect(fields, 0, "H");
				yield new Hello();
			}
			case 'N' -> {
				expect(fields, 0, "N");
				yield new New();
			}
			case 'R' -> {
				expect(fields, 2, "R");
				yield new Resume(readToken(fields[0], "R"), readOffset(fields[1], "R"));
			}
			case 'S' -> {
				if (fields.length != 3 && fields.length != 4) {
					throw new ResumeProtocolException("S takes 3 or 4 fields, not " + fields.length);
				}
				boolean recovered = switch (fields[2]) {
					case "1" -> true;
					case "0" -> false;
					default -> throw new ResumeProtocolException("S: recovered must be 0 or 1");
				};
				RefusalReason reason = (fields.length == 4) ? readReason(fields[3]) : null;
				if (recovered && reason != null) {
					throw new ResumeProtocolException("S: a recovered session has no refusal reason");
				}
				yield new Session(readToken(fields[0], "S"), readOffset(fields[1], "S"), recovered, reason);
			}
			case 'A' -> {
				expect(fields, 1, "A");
				yield new Ack(readOffset(fields[0], "A"));
			}
			default -> throw new ResumeProtocolException(Character.isLetter(kind) && kind < 128
					? "unknown control message " + kind : "NUL followed by neither NUL nor an ASCII letter");
		};
	}

	/**
	 * How many of the peer's messages a control message this side wrote acknowledges: the count of an
	 * {@code A}, or of an {@code S} (which acknowledges too); -1 for any other. For ordering what is
	 * written, not for reading the peer: nothing is checked but the count.
	 */
	public static long acknowledgedBy(String control) {
		if (control.length() < 4 || control.charAt(0) != NUL || control.charAt(2) != ' ') {
			return -1;
		}
		// A's count is its first field, S's its second (after the token).
		int field = switch (control.charAt(1)) {
			case 'A' -> 0;
			case 'S' -> 1;
			default -> -1;
		};
		String[] fields = control.substring(3).split(" ");
		if (field < 0 || fields.length <= field) {
			return -1;
		}
		try {
			return Long.parseLong(fields[field]);
		}
		catch (NumberFormatException ex) {
			return -1;
		}
	}

	// The fields after "NUL letter": none, or each after exactly one space.
	private static String[] fields(String text) {
		if (text.length() == 2) {
			return new String[0];
		}
		if (text.charAt(2) != ' ') {
			throw new ResumeProtocolException("a control message's letter is followed by neither its end nor a space");
		}
		return text.substring(3).split(" ", -1);
	}

	private static void expect(String[] fields, int count, String kind) {
		if (fields.length != count) {
			throw new ResumeProtocolException(kind + " takes " + count + " fields, not " + fields.length);
		}
	}

	private static long readOffset(String field, String kind) {
		if (!NUMBER.matcher(field).matches()) {
			throw new ResumeProtocolException(kind + ": a count is a decimal number without sign or leading zeros");
		}
		long value = Long.parseLong(field);
		if (value > MAX_OFFSET) {
			throw new ResumeProtocolException(kind + ": a count is at most 2^53 - 1");
		}
		return value;
	}

	private static String readToken(String field, String kind) {
		if (!TOKEN.matcher(field).matches()) {
			throw new ResumeProtocolException(kind + ": a token is 22 to 86 characters of base64url");
		}
		return field;
	}

	private static RefusalReason readReason(String field) {
		for (RefusalReason reason : RefusalReason.values()) {
			if (reason.wireName().equals(field)) {
				return reason;
			}
		}
		throw new ResumeProtocolException("S: unknown refusal reason");
	}

	private static long offset(long value) {
		if (value < 0 || value > MAX_OFFSET) {
			throw new IllegalArgumentException("A count is between 0 and 2^53 - 1");
		}
		return value;
	}

	private static String token(String token) {
		if (!TOKEN.matcher(token).matches()) {
			throw new IllegalArgumentException("A token is 22 to 86 characters of base64url");
		}
		return token;
	}

}
