package io.resilientws.autoconfigure;

import io.resilientws.InvalidConfigurationException;
import io.resilientws.cluster.RedisFanout;
import io.resilientws.server.ClusterView;
import io.resilientws.server.ServerSessionRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableWebApplicationContext;
import org.springframework.boot.test.context.runner.ContextConsumer;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

/**
 * Cluster mode is opt-in, and a cluster mode that cannot work stops the application with what to add;
 * none of these contexts connects to Redis (the connection is made when the registry starts).
 */
class ResilientWsClusterAutoConfigurationTest {

	private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ResilientWsAutoConfiguration.class, DataRedisAutoConfiguration.class,
				ResilientWsClusterAutoConfiguration.class, ResilientWsServerAutoConfiguration.class));

	@Test
	void offByDefaultTheRegistryIsOneInstanceEvenWithSpringDataRedisPresent() {
		this.runner.run((context) -> {
			assertThat(context).doesNotHaveBean(RedisFanout.class);
			assertThat(context.getBean(ServerSessionRegistry.class).clusterView().status())
				.isEqualTo(ClusterView.Status.SINGLE_INSTANCE);
		});
	}

	@Test
	void enabledTheRegistryGoesThroughRedis() {
		this.runner.withPropertyValues("resilient-ws.cluster.enabled=true", "resilient-ws.cluster.node-id=n1")
			.run((context) -> {
				assertThat(context).hasSingleBean(RedisFanout.class);
				assertThat(context.getBean(RedisFanout.class).nodeId()).isEqualTo("n1");
			});
	}

	@Test
	void aGeneratedNodeIdIsReadableAndUnique() {
		String one = ResilientWsClusterProperties.generatedNodeId();
		String other = ResilientWsClusterProperties.generatedNodeId();
		assertThat(one).matches("[A-Za-z0-9.-]+-" + ProcessHandle.current().pid() + "-[0-9a-f]{4}");
		assertThat(one).isNotEqualTo(other);
	}

	@Test
	void enabledWithoutSpringDataRedisFailsNamingTheDependency() {
		this.runner.withClassLoader(new FilteredClassLoader("org.springframework.data.redis"))
			.withPropertyValues("resilient-ws.cluster.enabled=true")
			.run(failsWith("resilient-ws.cluster.enabled", "spring-boot-starter-data-redis"));
	}

	@Test
	void enabledWithoutAConnectionFactoryFailsNamingWhatToAdd() {
		new WebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(ResilientWsAutoConfiguration.class,
					ResilientWsClusterAutoConfiguration.class, ResilientWsServerAutoConfiguration.class))
			.withPropertyValues("resilient-ws.cluster.enabled=true")
			.run(failsWith("resilient-ws.cluster.enabled", "RedisConnectionFactory"));
	}

	@Test
	void enabledWithJedisFailsAskingForLettuce() {
		new WebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(ResilientWsAutoConfiguration.class,
					ResilientWsClusterAutoConfiguration.class, ResilientWsServerAutoConfiguration.class))
			.withUserConfiguration(JedisFactory.class)
			.withPropertyValues("resilient-ws.cluster.enabled=true")
			.run(failsWith("resilient-ws.cluster.enabled", "Lettuce"));
	}

	@Test
	void aNodeTimeoutShorterThanThreeHeartbeatsFails() {
		this.runner
			.withPropertyValues("resilient-ws.cluster.enabled=true", "resilient-ws.cluster.heartbeat-interval=2s",
					"resilient-ws.cluster.node-timeout=5s")
			.run(failsWith("resilient-ws.cluster.node-timeout", "3 times"));
	}

	@Test
	void aBadNodeIdOrPrefixFails() {
		this.runner.withPropertyValues("resilient-ws.cluster.enabled=true", "resilient-ws.cluster.node-id=a b")
			.run(failsWith("resilient-ws.cluster.node-id", "letters"));
		this.runner.withPropertyValues("resilient-ws.cluster.enabled=true", "resilient-ws.cluster.key-prefix= ")
			.run(failsWith("resilient-ws.cluster.key-prefix", "whitespace"));
		this.runner
			.withPropertyValues("resilient-ws.cluster.enabled=true", "resilient-ws.cluster.request-timeout=10s")
			.run(failsWith("resilient-ws.cluster.request-timeout", "node-timeout"));
	}

	@Test
	void theRedisPasswordIsNeverInTheFailure() {
		this.runner
			.withPropertyValues("resilient-ws.cluster.enabled=true", "resilient-ws.cluster.node-timeout=1s",
					"spring.data.redis.password=s3cret-pa55", "spring.data.redis.url=redis://user:s3cret-pa55@localhost:1")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).rootCause().hasMessageNotContaining("s3cret-pa55");
				assertThat(context.getStartupFailure().toString()).doesNotContain("s3cret-pa55");
			});
	}

	private static ContextConsumer<AssertableWebApplicationContext> failsWith(String property, String advice) {
		return (context) -> {
			assertThat(context).hasFailed();
			Throwable root = context.getStartupFailure();
			while (!(root instanceof InvalidConfigurationException) && root.getCause() != null) {
				root = root.getCause();
			}
			assertThat(root).isInstanceOf(InvalidConfigurationException.class);
			assertThat(((InvalidConfigurationException) root).getProperty()).isEqualTo(property);
			assertThat(root.getMessage()).contains(advice);
		};
	}

	@Configuration(proxyBeanMethods = false)
	static class JedisFactory {

		@Bean
		RedisConnectionFactory redisConnectionFactory() {
			// Any factory that is not reactive, as Jedis's is not.
			return mock(RedisConnectionFactory.class);
		}

	}

}
