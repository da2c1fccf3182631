package io.resilientws.server;

import java.lang.reflect.Type;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.resilientws.testsupport.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.messaging.converter.StringMessageConverter;
import org.springframework.messaging.simp.SimpMessagingTemplate;
import org.springframework.messaging.simp.config.MessageBrokerRegistry;
import org.springframework.messaging.simp.stomp.StompFrameHandler;
import org.springframework.messaging.simp.stomp.StompHeaders;
import org.springframework.messaging.simp.stomp.StompSession;
import org.springframework.messaging.simp.stomp.StompSessionHandlerAdapter;
import org.springframework.web.socket.WebSocketHttpHeaders;
import org.springframework.web.socket.client.standard.StandardWebSocketClient;
import org.springframework.web.socket.config.annotation.EnableWebSocketMessageBroker;
import org.springframework.web.socket.config.annotation.StompEndpointRegistry;
import org.springframework.web.socket.config.annotation.WebSocketMessageBrokerConfigurer;
import org.springframework.web.socket.messaging.WebSocketStompClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * STOMP over WebSocket, configured the usual Spring way, is tracked like raw handlers, and an
 * endpoint that sets no allowed origins gets the configured default.
 */
class StompSessionTrackingTest {

	private static final Duration WAIT = Duration.ofSeconds(15);

	private ConfigurableApplicationContext context;

	private ServerSessionRegistry registry;

	private String url;

	@BeforeEach
	void startStompApplication() {
		this.context = new SpringApplicationBuilder(StompApplication.class).web(WebApplicationType.SERVLET)
			.properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
					"resilient-ws.server.allowed-origins=http://good.example")
			.run();
		this.registry = this.context.getBean(ServerSessionRegistry.class);
		int port = ((WebServerApplicationContext) this.context).getWebServer().getPort();
		this.url = "ws://127.0.0.1:" + port + "/stomp";
	}

	@AfterEach
	void stop() {
		this.context.close();
	}

	@Test
	void stompSessionsAreTrackedAndTheirMessagesGoThroughTheManagedSession() throws Exception {
		WebSocketStompClient stompClient = new WebSocketStompClient(new StandardWebSocketClient());
		stompClient.setMessageConverter(new StringMessageConverter());
		WebSocketHttpHeaders headers = new WebSocketHttpHeaders();
		headers.setOrigin("http://good.example");
		StompSession session = stompClient.connectAsync(this.url, headers, new StompSessionHandlerAdapter() {
		}).get(15, TimeUnit.SECONDS);
		List<String> received = new CopyOnWriteArrayList<>();
		session.subscribe("/topic/news", new StompFrameHandler() {
			@Override
			public Type getPayloadType(StompHeaders headers) {
				return String.class;
			}

			@Override
			public void handleFrame(StompHeaders headers, Object payload) {
				received.add((String) payload);
			}
		});
		await().atMost(WAIT).until(() -> this.registry.count() == 1);
		assertThat(this.registry.findByEndpoint("/stomp")).hasSize(1);
		SimpMessagingTemplate template = this.context.getBean(SimpMessagingTemplate.class);
		await().atMost(WAIT).untilAsserted(() -> {
			template.convertAndSend("/topic/news", "extra, extra");
			assertThat(received).contains("extra, extra");
		});
		session.disconnect();
		await().atMost(WAIT).until(() -> this.registry.count() == 0);
	}

	@Test
	void anEndpointWithoutItsOwnOriginsTakesTheConfiguredDefault() {
		RawClient allowed = RawClient.connect(this.url, Map.of("Origin", "http://good.example"));
		await().atMost(WAIT).until(() -> this.registry.count() == 1);
		allowed.close();
		assertThatExceptionOfType(CompletionException.class)
			.isThrownBy(() -> RawClient.connect(this.url, Map.of("Origin", "http://evil.example")))
			.havingCause()
			.isInstanceOfSatisfying(WebSocketHandshakeException.class,
					(refused) -> assertThat(refused.getResponse().statusCode()).isEqualTo(403));
	}

	@EnableAutoConfiguration
	@EnableWebSocketMessageBroker
	static class StompApplication implements WebSocketMessageBrokerConfigurer {

		@Override
		public void registerStompEndpoints(StompEndpointRegistry registry) {
			registry.addEndpoint("/stomp");
		}

		@Override
		public void configureMessageBroker(MessageBrokerRegistry registry) {
			registry.enableSimpleBroker("/topic");
			registry.setApplicationDestinationPrefixes("/app");
		}

	}

}
