package io.resilientws.client;

/**
 * Makes text from outside (a peer's close reason, a transport's exception message, a header name)
 * safe to log or show: control and bidirectional-formatting characters are escaped, so that the
 * text cannot forge log lines or reorder what a reader sees, and its length is bounded.
 */
final class SafeText {

	private SafeText() {
	}

	/** {@code text} with every control or bidi-formatting character written as {@code \n}, {@code \r}, {@code \t} or {@code \\uXXXX}. */
	static String escape(String text) {
		StringBuilder safe = null;
		for (int i = 0; i < text.length(); i++) {
			char c = text.charAt(i);
			String escaped = escaped(c);
			if (escaped != null && safe == null) {
				safe = new StringBuilder(text.length() + 8).append(text, 0, i);
			}
			if (safe != null) {
				if (escaped != null) {
					safe.append(escaped);
				}
				else {
					safe.append(c);
				}
			}
		}
		return (safe != null) ? safe.toString() : text;
	}

	/** {@link #escape(String) Escaped}, then cut to at most {@code max} characters (marked with "..."). */
	static String escape(String text, int max) {
		String safe = escape(text);
		return (safe.length() <= max) ? safe : safe.substring(0, Math.max(0, max - 3)) + "...";
	}

	private static String escaped(char c) {
		switch (c) {
			case '\n':
				return "\\n";
			case '\r':
				return "\\r";
			case '\t':
				return "\\t";
			default:
				return (Character.isISOControl(c) || isBidiFormatting(c) || c == '\u2028' || c == '\u2029')
						? String.format("\\u%04x", (int) c) : null;
		}
	}

	private static boolean isBidiFormatting(char c) {
		return (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069') || c == '\u200e' || c == '\u200f'
				|| c == '\u061c';
	}

}
