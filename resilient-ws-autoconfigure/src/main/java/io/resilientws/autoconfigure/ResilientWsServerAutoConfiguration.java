package io.resilientws.autoconfigure;

import io.resilientws.IoPool;
import io.resilientws.ResilientWsScheduler;
import io.resilientws.server.Fanout;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.WebSocketHandlerMappingPostProcessor;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.boot.thread.Threading;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.web.socket.server.support.WebSocketHandlerMapping;

/**
 * Tracks every server WebSocket session of a servlet web application in a
 * {@link ServerSessionRegistry}: raw handlers and STOMP endpoints alike, without changes to them.
 */
@AutoConfiguration(after = ResilientWsAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass(WebSocketHandlerMapping.class)
@ConditionalOnBooleanProperty(name = "resilient-ws.server.enabled", matchIfMissing = true)
@EnableConfigurationProperties(ResilientWsServerProperties.class)
public final class ResilientWsServerAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	ServerSessionRegistry resilientWsServerSessionRegistry(ResilientWsServerProperties properties,
			ResilientWsScheduler scheduler, ApplicationEventPublisher publisher, Environment environment,
			ObjectProvider<Fanout> fanout) {
		ServerSessionRegistry[] self = new ServerSessionRegistry[1];
		ServerSessionRegistry registry = new ServerSessionRegistry(properties.toSettings(), scheduler.taskScheduler(),
				() -> AvailabilityChangeEvent.publish(publisher, self[0], ReadinessState.REFUSING_TRAFFIC),
				IoPool.create("resilient-ws-server-io-", Threading.VIRTUAL.isActive(environment)),
				fanout.getIfAvailable(Fanout::singleInstance));
		self[0] = registry;
		return registry;
	}

	@Bean
	static WebSocketHandlerMappingPostProcessor resilientWsHandlerMappingPostProcessor(
			ObjectProvider<ServerSessionRegistry> registry) {
		return new WebSocketHandlerMappingPostProcessor(registry::getObject);
	}

}
