package io.resilientws.autoconfigure;

import java.net.http.HttpResponse;
import java.util.Arrays;

import io.resilientws.testsupport.Http;
import io.resilientws.testsupport.RecordingHandler;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /actuator/configprops} and {@code /actuator/env} over HTTP, with values shown (as an
 * application that opened them for operators would): the handshake headers of the client connections
 * are masked and their URLs appear without user info and query string, whichever form the property
 * is written in.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.endpoints.web.exposure.include=configprops,env",
				"management.endpoint.configprops.show-values=always", "management.endpoint.env.show-values=always",
				"resilient-ws.client.defaults.auto-startup=false",
				"resilient-ws.client.defaults.headers.X-Api-Key=default-k3y-value",
				"resilient-ws.client.connections.feed.url=ws://user:pa55word@127.0.0.1:1/feed?token=qu3ry-t0ken",
				"resilient-ws.client.connections.feed.headers.Authorization=Bearer s3cr3t-header",
				"resilient-ws.client.connections.feed.headers[X-Tenant]=tenant-s3cr3t",
				"resilient-ws.client.connections.feed.subprotocols=v1.feed" })
@DirtiesContext
class ClientPropertiesSanitizingWebTest {

	private static final String[] SECRETS = { "default-k3y-value", "s3cr3t-header", "tenant-s3cr3t", "pa55word",
			"qu3ry-t0ken" };

	@LocalServerPort
	private int port;

	@Test
	void configpropsMasksHeadersAndRedactsUrls() {
		HttpResponse<String> response = Http.get(this.port, "/actuator/configprops");
		assertThat(response.statusCode()).isEqualTo(200);
		assertShows(response.body(), "resilient-ws.client", "v1.feed", "ws://127.0.0.1:1/feed");
	}

	@Test
	void envMasksHeadersAndRedactsUrls() {
		HttpResponse<String> response = Http.get(this.port, "/actuator/env");
		assertThat(response.statusCode()).isEqualTo(200);
		assertShows(response.body(), "resilient-ws.client.connections.feed.headers.Authorization",
				"ws://127.0.0.1:1/feed", "v1.feed");
	}

	@Test
	void envOfOnePropertyMasksItToo() {
		HttpResponse<String> response = Http.get(this.port,
				"/actuator/env/resilient-ws.client.connections.feed.headers.Authorization");
		assertThat(response.statusCode()).isEqualTo(200);
		assertShows(response.body(), "******");
	}

	/** Compares without printing the body (it holds the whole environment) when it fails. */
	private static void assertShows(String body, String... expected) {
		assertThat(Arrays.stream(SECRETS).filter(body::contains).toList()).as("secrets in the response").isEmpty();
		assertThat(Arrays.stream(expected).filter((text) -> !body.contains(text)).toList())
			.as("expected texts missing from the response")
			.isEmpty();
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		RecordingHandler handler() {
			return new RecordingHandler();
		}

	}

}
