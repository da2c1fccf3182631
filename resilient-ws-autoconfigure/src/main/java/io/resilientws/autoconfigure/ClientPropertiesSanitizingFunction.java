package io.resilientws.autoconfigure;

import java.net.URI;
import java.util.Locale;

import io.resilientws.client.ConnectionSettings;

import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;

/**
 * Keeps the credentials of client connections out of {@code /actuator/configprops} and
 * {@code /actuator/env}, even where an application shows their values: every
 * {@code resilient-ws.client.**.headers.*} value is masked, and every {@code url} is shown without
 * user info and query string (as the {@code websockets} endpoint shows it).
 * <p>
 * Property names are compared in a relaxed form, so that {@code headers[Authorization]} and the
 * environment variable {@code RESILIENT_WS_CLIENT_CONNECTIONS_FEED_HEADERS_AUTHORIZATION} are caught
 * as well as {@code headers.Authorization}.
 */
final class ClientPropertiesSanitizingFunction implements SanitizingFunction {

	private static final String PREFIX = "resilientwsclient.";

	@Override
	public SanitizableData apply(SanitizableData data) {
		if (data.getValue() == null) {
			return data;
		}
		String key = relaxed(data.getKey());
		if (!key.startsWith(PREFIX)) {
			return data;
		}
		if (key.contains(".headers.") || key.endsWith(".headers")) {
			return data.withSanitizedValue();
		}
		if (key.endsWith(".url")) {
			return data.withValue(redacted(data.getValue()));
		}
		return data;
	}

	/** Lower case, dots for '_' and '[', without '-' and ']': "resilient-ws.client.x.headers[A_b]" becomes "resilientwsclient.x.headers.a.b". */
	private static String relaxed(String key) {
		String dotted = key.toLowerCase(Locale.ROOT).replace('_', '.').replace('[', '.').replace("]", "").replace("-", "");
		// "resilient-ws.client" and RESILIENT_WS_CLIENT both start with resilient, ws and client.
		return dotted.replaceFirst("^resilient\\.?ws\\.client\\.", PREFIX);
	}

	private static Object redacted(Object value) {
		try {
			URI url = (value instanceof URI uri) ? uri : new URI(value.toString());
			return ConnectionSettings.redact(url);
		}
		catch (Exception notAUri) {
			return SanitizableData.SANITIZED_VALUE;
		}
	}

}
