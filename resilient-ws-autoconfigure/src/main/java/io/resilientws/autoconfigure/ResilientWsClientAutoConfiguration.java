package io.resilientws.autoconfigure;

import io.resilientws.InvalidConfigurationException;
import io.resilientws.IoPool;
import io.resilientws.ResilientWsScheduler;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionSettingsCustomizer;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.boot.thread.Threading;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Managed client connections declared under {@code resilient-ws.client}. Every setting is validated
 * here, so a mistake stops the application at startup with the name of the property to fix.
 */
@AutoConfiguration(after = { ResilientWsAutoConfiguration.class, SslAutoConfiguration.class })
@EnableConfigurationProperties(ResilientWsClientProperties.class)
public final class ResilientWsClientAutoConfiguration {

	static final String PREFIX = "resilient-ws.client.";

	@Bean
	@ConditionalOnMissingBean
	ConnectionRegistry resilientWsConnectionRegistry(ResilientWsClientProperties properties,
			ResilientWsScheduler scheduler, ObjectProvider<SslBundles> sslBundles, ApplicationEventPublisher publisher,
			Environment environment) {
		ResilientWsClientProperties.Connection defaults = properties.getDefaults();
		try {
			ConfiguredConnectionsRegistrar.defaultsBuilder(defaults).validateWithoutUrl();
		}
		catch (InvalidConfigurationException ex) {
			throw ex.withPrefix(PREFIX + "defaults.");
		}
		return new ConnectionRegistry(scheduler.taskScheduler(),
				(bundle) -> ConfiguredConnectionsRegistrar.sslContext(sslBundles, bundle), publisher::publishEvent,
				() -> ConfiguredConnectionsRegistrar.defaultsBuilder(defaults), properties.getShutdownTimeout(),
				IoPool.create("resilient-ws-io-", Threading.VIRTUAL.isActive(environment)));
	}

	/** Registers the configured connections with the registry, whoever defined it. */
	@Bean
	ConfiguredConnectionsRegistrar resilientWsConfiguredConnections(ConnectionRegistry registry,
			ResilientWsClientProperties properties, ObjectProvider<SslBundles> sslBundles,
			ListableBeanFactory beanFactory, ObjectProvider<ConnectionSettingsCustomizer> customizers) {
		return new ConfiguredConnectionsRegistrar(registry, properties, sslBundles, beanFactory,
				customizers.orderedStream().toList());
	}

	/** Masks handshake headers and redacts URLs in the configprops and env endpoints. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.SanitizingFunction")
	static class SanitizingConfiguration {

		@Bean
		ClientPropertiesSanitizingFunction resilientWsClientPropertiesSanitizingFunction() {
			return new ClientPropertiesSanitizingFunction();
		}

	}

}
