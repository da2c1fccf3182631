package io.resilientws.autoconfigure;

import java.time.Duration;
import java.util.Map;

import io.resilientws.InvalidConfigurationException;
import io.resilientws.ResilientWsScheduler;
import io.resilientws.client.ConnectionHandler;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionSettingsCustomizer;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;
import io.resilientws.send.OverflowPolicy;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MapPropertySource;
import org.springframework.scheduling.TaskScheduler;

import static org.assertj.core.api.Assertions.assertThat;

class ResilientWsClientAutoConfigurationTest {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ResilientWsAutoConfiguration.class, ResilientWsClientAutoConfiguration.class,
				SslAutoConfiguration.class))
		.withPropertyValues("resilient-ws.client.defaults.auto-startup=false");

	@Test
	void runWithoutConnectionsProvidesAnEmptyRegistry() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(ConnectionRegistry.class).hasSingleBean(ResilientWsScheduler.class);
			assertThat(context.getBean(ConnectionRegistry.class).all()).isEmpty();
		});
	}

	@Test
	void runDoesNotExposeItsSchedulerAsATaskScheduler() {
		// Otherwise Boot would skip its own taskScheduler and run @Scheduled work on the heartbeat thread.
		this.runner.run((context) -> assertThat(context).doesNotHaveBean(TaskScheduler.class));
	}

	@Test
	void runWithAConnectionAppliesDefaultsThenItsOwnSettings() {
		this.runner.withUserConfiguration(OneHandler.class)
			.withPropertyValues("resilient-ws.client.defaults.heartbeat.interval=7s",
					"resilient-ws.client.defaults.send.buffer-limit=64KB",
					"resilient-ws.client.defaults.inbound.max-message-size=256KB",
					"resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker",
					"resilient-ws.client.connections.ticker.inbound.max-message-size=2MB",
					"resilient-ws.client.connections.ticker.send.overflow=drop-oldest",
					"resilient-ws.client.connections.ticker.reconnect.max-attempts=5")
			.run((context) -> {
				ManagedConnection ticker = context.getBean(ConnectionRegistry.class).get("ticker");
				assertThat(ticker.state()).isEqualTo(ConnectionState.CLOSED);
				assertThat(ticker.settings().heartbeat().interval()).isEqualTo(Duration.ofSeconds(7));
				assertThat(ticker.settings().heartbeat().timeout()).isEqualTo(Duration.ofSeconds(10));
				assertThat(ticker.settings().send().bufferLimit()).isEqualTo(64 * 1024);
				assertThat(ticker.settings().send().overflow()).isEqualTo(OverflowPolicy.DROP_OLDEST);
				assertThat(ticker.settings().reconnect().maxAttempts()).isEqualTo(5);
				assertThat(ticker.settings().maxMessageSize()).isEqualTo(2 * 1024 * 1024);
			});
	}

	@Test
	void runWhenUserDefinesARegistryBacksOffAndStillRegistersTheConfiguredConnections() {
		this.runner.withUserConfiguration(OneHandler.class, OwnRegistry.class)
			.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker")
			.run((context) -> {
				assertThat(context).hasSingleBean(ConnectionRegistry.class);
				ConnectionRegistry registry = context.getBean(ConnectionRegistry.class);
				assertThat(registry).isSameAs(context.getBean(OwnRegistry.class).registry);
				assertThat(registry.find("ticker")).isPresent();
			});
	}

	@Test
	void runWithACustomizerAppliesItAfterTheConnectionsProperties() {
		this.runner.withUserConfiguration(OneHandler.class)
			.withBean("tickerCustomizer", ConnectionSettingsCustomizer.class,
					() -> ConnectionSettingsCustomizer.of("ticker", (builder) -> builder.header("X-Token", "from-code")
						.heartbeatInterval(Duration.ofSeconds(3))))
			.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker",
					"resilient-ws.client.connections.ticker.heartbeat.interval=9s",
					"resilient-ws.client.connections.other.url=ws://localhost:1/other")
			.run((context) -> {
				ConnectionRegistry registry = context.getBean(ConnectionRegistry.class);
				assertThat(registry.get("ticker").settings().heartbeat().interval()).isEqualTo(Duration.ofSeconds(3));
				assertThat(registry.get("ticker").settings().headers()).containsEntry("X-Token", "from-code");
				assertThat(registry.get("other").settings().headers()).doesNotContainKey("X-Token");
			});
	}

	@Test
	void runWithACustomizerThatBreaksASettingFailsNamingTheProperty() {
		this.runner.withUserConfiguration(OneHandler.class)
			.withBean("tickerCustomizer", ConnectionSettingsCustomizer.class,
					() -> ConnectionSettingsCustomizer.of("ticker", (builder) -> builder.url("http://localhost:1/x")))
			.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).rootCause()
					.isInstanceOf(InvalidConfigurationException.class)
					.hasMessageContaining("resilient-ws.client.connections.ticker.url");
			});
	}

	@Test
	void runWithACustomizerOfAnUnknownConnectionFailsNamingIt() {
		this.runner.withUserConfiguration(OneHandler.class)
			.withBean("tickerCustomizer", ConnectionSettingsCustomizer.class,
					() -> ConnectionSettingsCustomizer.of("tikcer", (builder) -> builder.heartbeatInterval(Duration.ofSeconds(3))))
			.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).rootCause()
					.isInstanceOf(InvalidConfigurationException.class)
					.hasMessageContaining("'tikcer'")
					.hasMessageContaining("[ticker]");
			});
	}

	@Test
	void runWhenUserDefinesASchedulerUsesIt() {
		this.runner.withUserConfiguration(OwnScheduler.class)
			.run((context) -> assertThat(context.getBean(ResilientWsScheduler.class)).isSameAs(OwnScheduler.SCHEDULER));
	}

	@Test
	void runWithActuatorProvidesTheSanitizingFunction() {
		this.runner.run((context) -> assertThat(context).hasSingleBean(SanitizingFunction.class));
	}

	@Test
	void runWithoutActuatorBacksOffFromTheSanitizingFunction() {
		this.runner.withClassLoader(new FilteredClassLoader(SanitizingFunction.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(ClientPropertiesSanitizingFunction.class));
	}

	@Test
	void runWithHttpUrlFails() {
		assertFailure("resilient-ws.client.connections.ticker.url=http://localhost:8080/ticker",
				"resilient-ws.client.connections.ticker.url", "ws:// or wss://");
	}

	@Test
	void runWithoutUrlFails() {
		this.runner.withUserConfiguration(OneHandler.class)
			.withPropertyValues("resilient-ws.client.connections.ticker.heartbeat.interval=5s")
			.run((context) -> {
				FailureAnalysis analysis = analysisOf(context.getStartupFailure());
				assertThat(analysis.getDescription())
					.isEqualTo("The resilient-ws property 'resilient-ws.client.connections.ticker.url' is not set.");
				assertThat(analysis.getAction()).contains("be set to a ws:// or wss:// URL");
			});
	}

	@Test
	void runWithNegativeDurationFails() {
		assertFailure("resilient-ws.client.connections.ticker.heartbeat.timeout=-1s",
				"resilient-ws.client.connections.ticker.heartbeat.timeout", "positive duration");
	}

	@Test
	void runWithZeroDurationFails() {
		assertFailure("resilient-ws.client.connections.ticker.connect-timeout=0s",
				"resilient-ws.client.connections.ticker.connect-timeout", "positive duration");
	}

	@Test
	void runWithInvalidDefaultNamesTheDefaultsProperty() {
		assertFailure("resilient-ws.client.defaults.reconnect.max-delay=0ms",
				"resilient-ws.client.defaults.reconnect.max-delay", "positive duration");
	}

	@Test
	void runWithInitialDelayAboveMaxDelayFails() {
		assertFailure("resilient-ws.client.connections.ticker.reconnect.initial-delay=1m",
				"resilient-ws.client.connections.ticker.reconnect.initial-delay", "not be greater than reconnect.max-delay");
	}

	@Test
	void runWithCloseCodeOutOfRangeFails() {
		assertFailure("resilient-ws.client.connections.ticker.reconnect.on-codes=999",
				"resilient-ws.client.connections.ticker.reconnect.on-codes", "from 1000 to 4999");
		assertFailure("resilient-ws.client.connections.ticker.reconnect.never-on-codes=5000",
				"resilient-ws.client.connections.ticker.reconnect.never-on-codes", "from 1000 to 4999");
	}

	@Test
	void runWithZeroBufferLimitFails() {
		assertFailure("resilient-ws.client.connections.ticker.send.buffer-limit=0B",
				"resilient-ws.client.connections.ticker.send.buffer-limit", "be positive");
	}

	@Test
	void runWithZeroInboundMaxMessageSizeFails() {
		assertFailure("resilient-ws.client.connections.ticker.inbound.max-message-size=0B",
				"resilient-ws.client.connections.ticker.inbound.max-message-size", "be positive");
	}

	@Test
	void runWithZeroResumeBufferLimitFails() {
		assertFailure("resilient-ws.client.connections.ticker.resume.buffer-limit=0B",
				"resilient-ws.client.connections.ticker.resume.buffer-limit", "be positive");
	}

	@Test
	void runWithZeroResumeHelloTimeoutFails() {
		assertFailure("resilient-ws.client.defaults.resume.hello-timeout=0s",
				"resilient-ws.client.defaults.resume.hello-timeout", "positive");
	}

	@Test
	void runWithTheResumeParameterInTheUrlAndResumeOnFailsWithoutShowingTheQuery() {
		assertSecretNeverShown("resilient-ws.client.connections.ticker.url=ws://example.com/feed?token=s3cr3t&rws-resume=1",
				"resilient-ws.client.connections.ticker.url", "s3cr3t", "not carry the query parameter rws-resume",
				"resilient-ws.client.connections.ticker.resume.enabled=true");
	}

	@Test
	void resumeSettingsBindFromDefaultsAndTheConnection() {
		this.runner.withUserConfiguration(OneHandler.class)
			.withPropertyValues("resilient-ws.client.defaults.resume.enabled=true",
					"resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker?a=b",
					"resilient-ws.client.connections.ticker.resume.buffer-limit=64KB",
					"resilient-ws.client.connections.ticker.resume.hello-timeout=2s")
			.run((context) -> {
				ManagedConnection ticker = context.getBean(ConnectionRegistry.class).get("ticker");
				assertThat(ticker.settings().resume())
					.isEqualTo(new io.resilientws.client.ResumeSettings(true, 64 * 1024, Duration.ofSeconds(2)));
				assertThat(ticker.settings().connectUrl()).hasToString("ws://localhost:1/ticker?a=b&rws-resume=1");
			});
	}

	@Test
	void runWithEmptyHeartbeatTextFails() {
		assertFailure("resilient-ws.client.connections.ticker.heartbeat.mode=text",
				"resilient-ws.client.connections.ticker.heartbeat.ping-text", "not be empty",
				"resilient-ws.client.connections.ticker.heartbeat.ping-text=");
	}

	@Test
	void runWithUnknownSslBundleFails() {
		assertFailure("resilient-ws.client.connections.ticker.ssl-bundle=nope",
				"resilient-ws.client.connections.ticker.ssl-bundle", "spring.ssl.bundle",
				"resilient-ws.client.connections.ticker.url=wss://localhost:1/ticker");
	}

	@Test
	void runWithSslBundleOnPlainWsFails() {
		assertFailure("resilient-ws.client.connections.ticker.ssl-bundle=nope",
				"resilient-ws.client.connections.ticker.ssl-bundle", "only be set for wss://");
	}

	@Test
	void runWithAHeaderValueEndingInANewlineFailsNamingTheHeaderButNeverItsValue() {
		assertSecretNeverShown("resilient-ws.client.connections.ticker.headers.Authorization=Bearer s3cr3t-t0ken\n",
				"resilient-ws.client.connections.ticker.headers.Authorization", "s3cr3t-t0ken", "control characters");
	}

	@Test
	void runWithAControlCharacterInADefaultHeaderFailsNamingTheDefaultsProperty() {
		assertSecretNeverShown("resilient-ws.client.defaults.headers.X-Api-Key=k3y\r\nX-Evil: 1",
				"resilient-ws.client.defaults.headers.X-Api-Key", "k3y", "control characters");
	}

	@Test
	void runWithAHeaderTheHandshakeOwnsFails() {
		for (String header : new String[] { "Host", "Connection", "Upgrade", "Content-Length", "Expect",
				"Sec-WebSocket-Key", "sec-websocket-protocol", "Sec-WebSocket-Extensions" }) {
			assertSecretNeverShown("resilient-ws.client.connections.ticker.headers." + header + "=v4lue",
					"resilient-ws.client.connections.ticker.headers." + header, "v4lue", "not be set");
		}
	}

	@Test
	void runWithAnInvalidHeaderNameFails() {
		assertSecretNeverShown("resilient-ws.client.connections.ticker.headers.[X Api]=v4lue",
				"resilient-ws.client.connections.ticker.headers.[X Api]", "v4lue", "token");
	}

	@Test
	void runWithAValidHeaderStarts() {
		this.runner.withUserConfiguration(OneHandler.class)
			.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker",
					"resilient-ws.client.connections.ticker.headers.Authorization=Bearer a.b-c_d~e+f/g= \t!#$%&'*",
					"resilient-ws.client.connections.ticker.headers.Origin=https://example.com")
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void runWithAnInvalidUrlNeverShowsItsUserInfoOrQuery() {
		assertSecretNeverShown("resilient-ws.client.connections.ticker.url=https://user:pa55word@example.com/feed?token=s3cr3t",
				"resilient-ws.client.connections.ticker.url", "pa55word", "ws:// or wss://");
		assertSecretNeverShown("resilient-ws.client.connections.ticker.url=https://user:pa55word@example.com/feed?token=s3cr3t",
				"resilient-ws.client.connections.ticker.url", "s3cr3t", "ws:// or wss://");
		assertSecretNeverShown("resilient-ws.client.connections.ticker.url=ws:///feed?token=s3cr3t",
				"resilient-ws.client.connections.ticker.url", "s3cr3t", "name a host");
	}

	@Test
	void runWithAMalformedUrlNeverShowsIt() {
		assertSecretNeverShown("resilient-ws.client.connections.ticker.url=wss://example.com/feed?token=s3cr3t value",
				"resilient-ws.client.connections.ticker.url", "s3cr3t", "be a valid URL");
	}

	@Test
	void runWithAnSslBundleOnAPlainUrlNeverShowsTheUrlsQuery() {
		assertSecretNeverShown("resilient-ws.client.connections.ticker.url=ws://example.com/feed?token=s3cr3t",
				"resilient-ws.client.connections.ticker.ssl-bundle", "s3cr3t", "only be set for wss://",
				"resilient-ws.client.connections.ticker.ssl-bundle=nope");
	}

	@Test
	void runWithoutAnyHandlerFails() {
		this.runner.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker")
			.run((context) -> assertThat(analysisOf(context.getStartupFailure()).getAction())
				.contains("'resilient-ws.client.connections.ticker.handler'", "no bean implements"));
	}

	@Test
	void runWithUnknownHandlerFails() {
		this.runner.withUserConfiguration(OneHandler.class)
			.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker",
					"resilient-ws.client.connections.ticker.handler=nope")
			.run((context) -> assertThat(analysisOf(context.getStartupFailure()).getAction())
				.contains("'resilient-ws.client.connections.ticker.handler'", "[tickerHandler]"));
	}

	@Test
	void runWithTwoHandlersAndNoChoiceFails() {
		this.runner.withUserConfiguration(TwoHandlers.class)
			.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker")
			.run((context) -> assertThat(analysisOf(context.getStartupFailure()).getAction())
				.contains("name one of the ConnectionHandler beans [first, second]"));
	}

	@Test
	void runWithTwoHandlersUsesTheNamedOne() {
		this.runner.withUserConfiguration(TwoHandlers.class)
			.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker",
					"resilient-ws.client.connections.ticker.handler=second")
			.run((context) -> assertThat(context).hasNotFailed());
	}

	private void assertFailure(String property, String expectedProperty, String expectedRequirement,
			String... moreProperties) {
		this.runner.withUserConfiguration(OneHandler.class)
			.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker")
			.withPropertyValues(moreProperties)
			.withPropertyValues(property)
			.run((context) -> {
				FailureAnalysis analysis = analysisOf(context.getStartupFailure());
				assertThat(analysis.getDescription()).contains("'" + expectedProperty + "'");
				assertThat(analysis.getAction()).contains("'" + expectedProperty + "' must")
					.contains(expectedRequirement);
			});
	}

	/**
	 * Startup fails naming the property and the requirement, and the secret appears nowhere: not in
	 * the failure analysis, not in any message of the cause chain. {@code property} is added as it is
	 * (name=value, the value not trimmed), ahead of every other property source.
	 */
	private void assertSecretNeverShown(String property, String expectedProperty, String secret,
			String expectedRequirement, String... moreProperties) {
		String[] pair = property.split("=", 2);
		this.runner.withUserConfiguration(OneHandler.class)
			.withPropertyValues("resilient-ws.client.connections.ticker.url=ws://localhost:1/ticker")
			.withPropertyValues(moreProperties)
			.withInitializer((context) -> context.getEnvironment()
				.getPropertySources()
				.addFirst(new MapPropertySource("raw", Map.of(pair[0], pair[1]))))
			.run((context) -> {
				FailureAnalysis analysis = analysisOf(context.getStartupFailure());
				assertThat(analysis.getDescription()).contains("'" + expectedProperty + "'").doesNotContain(secret);
				assertThat(analysis.getAction()).contains("'" + expectedProperty + "' must")
					.contains(expectedRequirement)
					.doesNotContain(secret);
				for (Throwable t = context.getStartupFailure(); t != null; t = t.getCause()) {
					assertThat(String.valueOf(t.getMessage())).doesNotContain(secret);
				}
			});
	}

	private static FailureAnalysis analysisOf(Throwable startupFailure) {
		assertThat(startupFailure).isNotNull();
		Throwable cause = startupFailure;
		while (cause != null && !(cause instanceof InvalidConfigurationException)) {
			cause = cause.getCause();
		}
		assertThat(cause).as("InvalidConfigurationException in the cause chain of %s", startupFailure).isNotNull();
		FailureAnalysis analysis = new InvalidConfigurationFailureAnalyzer().analyze(startupFailure);
		assertThat(analysis).isNotNull();
		return analysis;
	}

	@Configuration(proxyBeanMethods = false)
	static class OneHandler {

		@Bean
		ConnectionHandler tickerHandler() {
			return new ConnectionHandler() {
			};
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class TwoHandlers {

		@Bean
		ConnectionHandler first() {
			return new ConnectionHandler() {
			};
		}

		@Bean
		ConnectionHandler second() {
			return new ConnectionHandler() {
			};
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class OwnRegistry {

		final ConnectionRegistry registry = new ConnectionRegistry(ResilientWsScheduler.create().taskScheduler(),
				(name) -> {
					throw new IllegalStateException();
				}, (event) -> {
				}, io.resilientws.client.ConnectionSettings::builder, Duration.ofSeconds(1));

		@Bean
		ConnectionRegistry myRegistry() {
			return this.registry;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class OwnScheduler {

		static final ResilientWsScheduler SCHEDULER = ResilientWsScheduler.create();

		@Bean
		ResilientWsScheduler myScheduler() {
			return SCHEDULER;
		}

	}

}
