package io.resilientws.client;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.resilientws.InvalidConfigurationException;

/**
 * Checks extra handshake headers before a connection exists, so that a header the JDK would refuse
 * stops the application at startup, naming the property, instead of failing every connect attempt
 * with an exception whose message quotes the value. Values are never put into an error: they are
 * usually credentials.
 * <p>
 * The rules are those of {@code java.net.http}: a name is an RFC 9110 token; a value holds no
 * control character but HTAB and nothing above U+00FF; {@code Connection}, {@code Content-Length},
 * {@code Expect}, {@code Host} and {@code Upgrade} are restricted unless the system property
 * {@code jdk.httpclient.allowRestrictedHeaders} allows them; and every {@code Sec-WebSocket-*}
 * header belongs to the handshake itself.
 */
final class HandshakeHeaders {

	private static final Set<String> JDK_RESTRICTED = jdkRestricted();

	private static final String TOKEN_CHARACTERS = "!#$%&'*+-.^_`|~";

	private HandshakeHeaders() {
	}

	static void validate(Map<String, String> headers) {
		headers.forEach((name, value) -> {
			String property = property(name);
			if (!isToken(name)) {
				throw InvalidConfigurationException.hiddenValue(property,
						"be named by an HTTP token (letters, digits and " + TOKEN_CHARACTERS + "; no spaces)");
			}
			if (name.toLowerCase(Locale.ROOT).startsWith("sec-websocket-")) {
				throw InvalidConfigurationException.hiddenValue(property,
						"not be set: the WebSocket handshake sets the Sec-WebSocket-* headers itself "
								+ "(offer subprotocols with the subprotocols property)");
			}
			if (JDK_RESTRICTED.contains(name)) {
				throw InvalidConfigurationException.hiddenValue(property,
						"not be set: the JDK's HTTP client sets this header itself (the system property "
								+ "jdk.httpclient.allowRestrictedHeaders can allow it)");
			}
			if (value == null) {
				throw new InvalidConfigurationException(property, null, "be set to the header's value");
			}
			if (!isFieldValue(value)) {
				throw InvalidConfigurationException.hiddenValue(property,
						"contain no control characters (such as a trailing newline, often left by a file or "
								+ "an environment variable) and no characters above U+00FF");
			}
		});
	}

	/** The property below the connection that sets this header, in the syntax a properties file needs. */
	private static String property(String name) {
		boolean plain = !name.isEmpty()
				&& name.chars().allMatch((c) -> c < 128 && (Character.isLetterOrDigit(c) || c == '-'));
		return plain ? "headers." + name : "headers.[" + SafeText.escape(name, 64) + "]";
	}

	private static boolean isToken(String name) {
		if (name.isEmpty()) {
			return false;
		}
		for (int i = 0; i < name.length(); i++) {
			char c = name.charAt(i);
			boolean letterOrDigit = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
			if (!letterOrDigit && TOKEN_CHARACTERS.indexOf(c) < 0) {
				return false;
			}
		}
		return true;
	}

	private static boolean isFieldValue(String value) {
		for (int i = 0; i < value.length(); i++) {
			char c = value.charAt(i);
			if (c > 0xff || c == 0x7f || (c < 0x20 && c != '\t')) {
				return false;
			}
		}
		return true;
	}

	private static Set<String> jdkRestricted() {
		Set<String> restricted = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
		restricted.addAll(Set.of("Connection", "Content-Length", "Expect", "Host", "Upgrade"));
		String allowed = System.getProperty("jdk.httpclient.allowRestrictedHeaders");
		if (allowed != null) {
			// Read as the JDK reads it (jdk.internal.net.http.common.Utils), so that both agree.
			for (String name : allowed.trim().split(",")) {
				restricted.remove(name);
			}
		}
		return restricted;
	}

}
