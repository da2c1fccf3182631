package io.resilientws.autoconfigure;

import io.resilientws.InvalidConfigurationException;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.WebSocketHandlerMappingPostProcessor;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.socket.server.support.WebSocketHandlerMapping;

import static org.assertj.core.api.Assertions.assertThat;

class ResilientWsServerAutoConfigurationTest {

	private final WebApplicationContextRunner runner = new WebApplicationContextRunner().withConfiguration(
			AutoConfigurations.of(ResilientWsAutoConfiguration.class, ResilientWsServerAutoConfiguration.class));

	@Test
	void runInAServletApplicationProvidesTheRegistry() {
		this.runner.run((context) -> assertThat(context).hasSingleBean(ServerSessionRegistry.class)
			.hasSingleBean(WebSocketHandlerMappingPostProcessor.class));
	}

	@Test
	void runOutsideAWebApplicationBacksOff() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(ResilientWsAutoConfiguration.class, ResilientWsServerAutoConfiguration.class))
			.run((context) -> assertThat(context).doesNotHaveBean(ServerSessionRegistry.class));
	}

	@Test
	void runWithoutSpringWebSocketBacksOff() {
		this.runner.withClassLoader(new FilteredClassLoader(WebSocketHandlerMapping.class))
			.run((context) -> assertThat(context).doesNotHaveBean(ServerSessionRegistry.class));
	}

	@Test
	void runWhenDisabledBacksOff() {
		this.runner.withPropertyValues("resilient-ws.server.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(ServerSessionRegistry.class));
	}

	@Test
	void runWithAUserRegistryUsesIt() {
		this.runner.withUserConfiguration(OwnRegistry.class).run((context) -> {
			assertThat(context).hasSingleBean(ServerSessionRegistry.class);
			assertThat(context).hasBean("myRegistry");
		});
	}

	@Test
	void runWithUnsendableTerminateCodeFails() {
		assertFailure("resilient-ws.server.send.terminate-close-code=999", "resilient-ws.server.send.terminate-close-code",
				"from 1000 to 4999");
		assertFailure("resilient-ws.server.send.terminate-close-code=1006",
				"resilient-ws.server.send.terminate-close-code", "except 1004, 1005, 1006 and 1015");
	}

	@Test
	void runWithEmptyHeartbeatTextFails() {
		assertFailure("resilient-ws.server.app-heartbeat.ping-text=", "resilient-ws.server.app-heartbeat.ping-text",
				"not be empty");
	}

	@Test
	void runWithZeroOrNegativeLimitsFails() {
		assertFailure("resilient-ws.server.send.buffer-limit=0B", "resilient-ws.server.send.buffer-limit",
				"positive size");
		assertFailure("resilient-ws.server.send.time-limit=-1s", "resilient-ws.server.send.time-limit",
				"positive duration");
		assertFailure("resilient-ws.server.heartbeat.interval=0s", "resilient-ws.server.heartbeat.interval",
				"positive duration");
		assertFailure("resilient-ws.server.inbound.max-message-size=0B", "resilient-ws.server.inbound.max-message-size",
				"positive size");
		assertFailure("resilient-ws.server.max-sessions=0", "resilient-ws.server.max-sessions", "at least 1");
		assertFailure("resilient-ws.server.shutdown.drain-period=0s", "resilient-ws.server.shutdown.drain-period",
				"positive duration");		assertFailure("resilient-ws.server.resume.window=0s", "resilient-ws.server.resume.window", "positive duration");
		assertFailure("resilient-ws.server.resume.buffer-limit=0B", "resilient-ws.server.resume.buffer-limit",
				"positive size");
		assertFailure("resilient-ws.server.resume.max-detached=0", "resilient-ws.server.resume.max-detached",
				"at least 1");
	}

	private void assertFailure(String property, String expectedProperty, String expectedRequirement) {
		this.runner.withPropertyValues(property).run((context) -> {
			Throwable failure = context.getStartupFailure();
			assertThat(failure).isNotNull();
			FailureAnalysis analysis = new InvalidConfigurationFailureAnalyzer().analyze(failure);
			assertThat(analysis).as("analysis of %s", failure).isNotNull();
			assertThat(analysis.getDescription()).contains("'" + expectedProperty + "'");
			assertThat(analysis.getAction()).contains(expectedRequirement);
			assertThat(failure).hasRootCauseInstanceOf(InvalidConfigurationException.class);
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class OwnRegistry {

		@Bean
		ServerSessionRegistry myRegistry() {
			return new ServerSessionRegistry(new ResilientWsServerProperties().toSettings(),
					io.resilientws.ResilientWsScheduler.create().taskScheduler(), () -> {
					});
		}

	}

}
