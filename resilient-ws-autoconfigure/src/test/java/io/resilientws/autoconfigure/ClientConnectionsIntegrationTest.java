package io.resilientws.autoconfigure;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.resilientws.client.ConnectionEvent;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;
import io.resilientws.testsupport.RecordingHandler;
import io.resilientws.testsupport.SelfSignedCertificate;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Connections declared in configuration, in a running application context, against a real server:
 * the way users meet the starter.
 */
class ClientConnectionsIntegrationTest {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ResilientWsAutoConfiguration.class, ResilientWsClientAutoConfiguration.class,
				SslAutoConfiguration.class))
		.withUserConfiguration(HandlerAndListener.class);

	@Test
	void connectionOpensWithTheApplicationPublishesEventsAndClosesWith1001WhenItStops() {
		try (TestWebSocketServer server = TestWebSocketServer.start()) {
			this.runner.withPropertyValues("resilient-ws.client.connections.feed.url=" + server.url())
				.run((context) -> {
					ManagedConnection feed = context.getBean(ConnectionRegistry.class).get("feed");
					await().atMost(WAIT).until(() -> feed.state() == ConnectionState.OPEN);
					feed.send("hi");
					RecordingHandler handler = context.getBean(RecordingHandler.class);
					await().atMost(WAIT).until(() -> handler.messages.contains("hi"));
					List<ConnectionEvent> events = context.getBean(HandlerAndListener.class).events;
					assertThat(events).first()
						.isInstanceOfSatisfying(ConnectionEvent.StateChanged.class,
								(changed) -> assertThat(changed.to()).isEqualTo(ConnectionState.CONNECTING));
				});
			await().atMost(WAIT).until(() -> !server.closeStatuses().isEmpty());
			assertThat(server.closeStatuses().get(0).getCode()).isEqualTo(1001);
			await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> server.openSessions() == 0);
		}
	}

	@Test
	void wssConnectionTrustsTheServerThroughItsSslBundle(@TempDir Path directory) throws Exception {
		SelfSignedCertificate certificate = SelfSignedCertificate.create(directory);
		try (TestWebSocketServer server = tlsServer(certificate)) {
			this.runner
				.withPropertyValues("resilient-ws.client.connections.secure.url=wss://localhost:" + server.port() + "/ws",
						"resilient-ws.client.connections.secure.ssl-bundle=client",
						"spring.ssl.bundle.pem.client.truststore.certificate=file:" + certificate.certificatePem())
				.run((context) -> {
					ManagedConnection secure = context.getBean(ConnectionRegistry.class).get("secure");
					await().atMost(WAIT).until(() -> secure.state() == ConnectionState.OPEN);
					secure.send("over tls");
					await().atMost(WAIT)
						.until(() -> context.getBean(RecordingHandler.class).messages.contains("over tls"));
				});
		}
	}

	@Test
	void wssConnectionWithoutTrustFailsItsHandshakeAndKeepsTrying(@TempDir Path directory) throws Exception {
		SelfSignedCertificate certificate = SelfSignedCertificate.create(directory);
		try (TestWebSocketServer server = tlsServer(certificate)) {
			this.runner
				.withPropertyValues("resilient-ws.client.connections.secure.url=wss://localhost:" + server.port() + "/ws")
				.run((context) -> {
					RecordingHandler handler = context.getBean(RecordingHandler.class);
					await().atMost(WAIT).until(() -> !handler.closes.isEmpty());
					assertThat(handler.closes.get(0).code()).isEqualTo(1006);
					assertThat(handler.closes.get(0).willReconnect()).isTrue();
					assertThat(handler.errors).isNotEmpty();
				});
		}
	}

	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void invalidConfigurationStopsTheApplicationWithAReportNamingTheProperty(CapturedOutput output) {
		SpringApplication application = new SpringApplicationBuilder(StartupApplication.class)
			.web(WebApplicationType.NONE)
			.properties("resilient-ws.client.connections.quotes.url=https://quotes.example.com/stream")
			.build();
		assertThatExceptionOfType(BeanCreationException.class).isThrownBy(application::run);
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("The resilient-ws property 'resilient-ws.client.connections.quotes.url' has the invalid value "
					+ "'https://quotes.example.com/stream'.")
			.contains("'resilient-ws.client.connections.quotes.url' must be a ws:// or wss:// URL");
	}

	/** A server on wss:// with the certificate, through Spring Boot's own SSL bundle support. */
	private static TestWebSocketServer tlsServer(SelfSignedCertificate certificate) {
		return TestWebSocketServer.builder()
			.property("server.ssl.bundle", "server")
			.property("spring.ssl.bundle.jks.server.keystore.location", "file:" + certificate.keyStore())
			.property("spring.ssl.bundle.jks.server.keystore.password", certificate.password())
			.property("spring.ssl.bundle.jks.server.keystore.type", "PKCS12")
			.start();
	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class StartupApplication {

		@Bean
		RecordingHandler handler() {
			return new RecordingHandler();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class HandlerAndListener {

		final List<ConnectionEvent> events = new CopyOnWriteArrayList<>();

		@Bean
		RecordingHandler recordingHandler() {
			return new RecordingHandler();
		}

		@EventListener
		void on(ConnectionEvent event) {
			this.events.add(event);
		}

	}

}
