package io.resilientws.browser;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import io.resilientws.client.ConnectionSettings;
import io.resilientws.client.ReconnectSettings;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The browser client {@code resilient-ws.js}: served by any Boot web application that has the jar, and in
 * agreement with the Java client on the heartbeat texts, the close codes that reconnect and the defaults.
 */
class BrowserClientResourceTest {

	private static final String RESOURCE = "META-INF/resources/resilient-ws/resilient-ws.js";

	@Test
	void plainBootApplicationServesItAsJavaScript() throws IOException, InterruptedException {
		// A Spring MVC application without resilient-ws's auto-configurations: serving the file needs none,
		// only Boot's default static locations (classpath:/META-INF/resources/ among them).
		try (TestWebSocketServer server = TestWebSocketServer.start()) {
			HttpResponse<String> response = HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/resilient-ws/resilient-ws.js"))
					.timeout(Duration.ofSeconds(10))
					.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(response.statusCode()).isEqualTo(200);
			// Browsers load an ES module only with a JavaScript MIME type.
			assertThat(response.headers().firstValue("Content-Type"))
				.hasValueSatisfying((type) -> assertThat(type).matches("(text|application)/javascript(;.*)?"));
			assertThat(response.body()).contains("export class ResilientWebSocket").isEqualTo(source());
		}
	}

	@Test
	void speaksTheSameHeartbeatTexts() throws IOException {
		String source = source();
		assertThat(constant(source, "PING_TEXT")).isEqualTo(HeartbeatSettings.DEFAULT_PING_TEXT);
		assertThat(constant(source, "PONG_TEXT")).isEqualTo(HeartbeatSettings.DEFAULT_PONG_TEXT);
	}

	@Test
	void reconnectsAfterTheSameCloseCodes() throws IOException {
		Matcher matcher = Pattern.compile("DEFAULT_RECONNECT_CODES = Object\\.freeze\\(\\[([0-9, ]+)]\\)").matcher(source());
		assertThat(matcher.find()).isTrue();
		Set<Integer> codes = Arrays.stream(matcher.group(1).split(","))
			.map(String::trim)
			.map(Integer::valueOf)
			.collect(Collectors.toSet());
		assertThat(codes).isEqualTo(ReconnectSettings.DEFAULT_RECONNECT_CODES);
	}

	@Test
	void hasTheSameDefaults() throws IOException {
		Map<String, Double> js = numericDefaults(source());
		ConnectionSettings java = ConnectionSettings.builder().url("ws://localhost/").build();
		assertThat(js.get("heartbeatInterval")).isEqualTo(java.heartbeat().interval().toMillis());
		assertThat(js.get("heartbeatTimeout")).isEqualTo(java.heartbeat().timeout().toMillis());
		assertThat(js.get("initialDelay")).isEqualTo(java.reconnect().initialDelay().toMillis());
		assertThat(js.get("maxDelay")).isEqualTo(java.reconnect().maxDelay().toMillis());
		assertThat(js.get("multiplier")).isEqualTo(java.reconnect().multiplier());
		// The Java jitter is in ms at the initial delay and scales with the delay: the same fraction.
		assertThat(js.get("jitter"))
			.isEqualTo((double) java.reconnect().jitter().toMillis() / java.reconnect().initialDelay().toMillis());
		assertThat(js.get("stableAfter")).isEqualTo(java.reconnect().stableAfter().toMillis());
		assertThat(js.get("tryAgainLaterDelay")).isEqualTo(java.reconnect().tryAgainLaterDelay().toMillis());
		assertThat(js.get("connectTimeout")).isEqualTo(java.connectTimeout().toMillis());
		assertThat(js.get("closeTimeout")).isEqualTo(java.closeTimeout().toMillis());
		assertThat(js.get("queueLimitBytes")).isEqualTo(java.send().bufferLimit());
	}

	private static String source() throws IOException {
		try (InputStream in = BrowserClientResourceTest.class.getClassLoader().getResourceAsStream(RESOURCE)) {
			assertThat(in).as(RESOURCE + " on the class path").isNotNull();
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
	}

	private static String constant(String source, String name) {
		Matcher matcher = Pattern.compile("export const " + name + " = '([^']*)';").matcher(source);
		assertThat(matcher.find()).as("the constant " + name).isTrue();
		return matcher.group(1);
	}

	/** The options in DEFAULT_OPTIONS whose default is a number or a product such as 1024 * 1024. */
	private static Map<String, Double> numericDefaults(String source) {
		String options = source.substring(source.indexOf("export const DEFAULT_OPTIONS"));
		options = options.substring(0, options.indexOf("});"));
		Map<String, Double> defaults = new HashMap<>();
		Matcher matcher = Pattern.compile("^\\s*(\\w+): ([0-9._ *]+),$", Pattern.MULTILINE).matcher(options);
		while (matcher.find()) {
			double value = Arrays.stream(matcher.group(2).split("\\*"))
				.map((factor) -> factor.trim().replace("_", ""))
				.mapToDouble(Double::parseDouble)
				.reduce(1, (a, b) -> a * b);
			defaults.put(matcher.group(1), value);
		}
		return defaults;
	}

}
