package io.resilientws.autoconfigure;

import io.resilientws.InvalidConfigurationException;
import io.resilientws.IoPool;
import io.resilientws.ResilientWsScheduler;
import io.resilientws.cluster.RedisFanout;
import io.resilientws.server.Fanout;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.thread.Threading;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.web.socket.server.support.WebSocketHandlerMapping;

/**
 * Cluster mode ({@code resilient-ws.cluster.enabled=true}): the server session registry reaches the
 * sessions of every instance through Redis, on the connection factory Spring Boot configures from
 * {@code spring.data.redis.*} (Lettuce). Enabled without Spring Data Redis, without a connection
 * factory, or with one that is not reactive (Jedis), startup fails and says what to add.
 */
@AutoConfiguration(before = ResilientWsServerAutoConfiguration.class, after = ResilientWsAutoConfiguration.class,
		afterName = "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration")
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass(WebSocketHandlerMapping.class)
@ConditionalOnBooleanProperty(name = "resilient-ws.cluster.enabled")
@EnableConfigurationProperties(ResilientWsClusterProperties.class)
public final class ResilientWsClusterAutoConfiguration {

	static final String ENABLED = "resilient-ws.cluster.enabled";

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnMissingClass("org.springframework.data.redis.connection.ReactiveRedisConnectionFactory")
	static class WithoutSpringDataRedis {

		@Bean
		Fanout resilientWsClusterFanout() {
			throw new InvalidConfigurationException(ENABLED, true,
					"have Spring Data Redis on the classpath: add the dependency "
							+ "org.springframework.boot:spring-boot-starter-data-redis (or set it to false)");
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(ReactiveRedisConnectionFactory.class)
	static class WithSpringDataRedis {

		@Bean
		@ConditionalOnMissingBean(Fanout.class)
		RedisFanout resilientWsClusterFanout(ResilientWsClusterProperties properties,
				ObjectProvider<RedisConnectionFactory> connectionFactory, ResilientWsScheduler scheduler,
				Environment environment) {
			RedisConnectionFactory factory = connectionFactory.getIfAvailable();
			if (factory == null) {
				throw new InvalidConfigurationException(ENABLED, true,
						"have a RedisConnectionFactory bean: add org.springframework.boot:spring-boot-starter-data-redis "
								+ "and configure spring.data.redis.* (or set it to false)");
			}
			if (!(factory instanceof ReactiveRedisConnectionFactory reactive)) {
				throw new InvalidConfigurationException(ENABLED, true,
						"have a Lettuce RedisConnectionFactory (found " + factory.getClass().getSimpleName()
								+ "): use spring-boot-starter-data-redis's default client, Lettuce "
								+ "(spring.data.redis.client-type=lettuce)");
			}
			return new RedisFanout(reactive, properties.toSettings(), scheduler.taskScheduler(),
					IoPool.create("resilient-ws-cluster-", Threading.VIRTUAL.isActive(environment)));
		}

	}

}
