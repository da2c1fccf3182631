package io.resilientws.autoconfigure;

import java.util.Arrays;

import javax.net.ssl.SSLContext;

import io.resilientws.InvalidConfigurationException;
import io.resilientws.ResilientWsScheduler;
import io.resilientws.client.ConnectionHandler;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionSettings;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

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
			ListableBeanFactory beanFactory) {
		ResilientWsClientProperties.Connection defaults = properties.getDefaults();
		try {
			defaultsBuilder(defaults).validateWithoutUrl();
		}
		catch (InvalidConfigurationException ex) {
			throw ex.withPrefix(PREFIX + "defaults.");
		}
		ConnectionRegistry registry = new ConnectionRegistry(scheduler.taskScheduler(),
				(bundle) -> sslContext(sslBundles, bundle), publisher::publishEvent, () -> defaultsBuilder(defaults),
				properties.getShutdownTimeout());
		properties.getConnections().forEach((name, connection) -> {
			String prefix = PREFIX + "connections." + name + ".";
			try {
				ConnectionSettings.Builder builder = defaultsBuilder(defaults);
				connection.applyTo(builder);
				ConnectionSettings settings = builder.build();
				checkSslBundle(settings, sslBundles);
				String handler = (connection.getHandler() != null) ? connection.getHandler() : defaults.getHandler();
				registry.register(name, settings, new BeanConnectionHandler(beanFactory, handlerBeanName(handler,
						beanFactory)));
			}
			catch (InvalidConfigurationException ex) {
				throw ex.withPrefix(prefix);
			}
		});
		return registry;
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

	private static ConnectionSettings.Builder defaultsBuilder(ResilientWsClientProperties.Connection defaults) {
		ConnectionSettings.Builder builder = ConnectionSettings.builder();
		defaults.applyTo(builder);
		return builder;
	}

	private static void checkSslBundle(ConnectionSettings settings, ObjectProvider<SslBundles> sslBundles) {
		String bundle = settings.sslBundle();
		if (bundle != null) {
			sslContext(sslBundles, bundle);
		}
	}

	private static SSLContext sslContext(ObjectProvider<SslBundles> sslBundles, String bundle) {
		SslBundles bundles = sslBundles.getIfAvailable();
		try {
			if (bundles == null) {
				throw new NoSuchSslBundleException(bundle, "no SSL bundles are configured");
			}
			return bundles.getBundle(bundle).createSslContext();
		}
		catch (NoSuchSslBundleException ex) {
			throw new InvalidConfigurationException("ssl-bundle", bundle,
					"name an SSL bundle configured under spring.ssl.bundle.jks.<name> or spring.ssl.bundle.pem.<name>");
		}
	}

	/**
	 * The handler bean's name, checked without creating the bean (so that a handler may depend on the
	 * registry it is registered with).
	 */
	private static String handlerBeanName(@Nullable String configured, ListableBeanFactory beanFactory) {
		String[] candidates = beanFactory.getBeanNamesForType(ConnectionHandler.class, true, false);
		if (configured != null) {
			if (!Arrays.asList(candidates).contains(configured)) {
				throw new InvalidConfigurationException("handler", configured,
						"name a bean that implements io.resilientws.client.ConnectionHandler; such beans are "
								+ Arrays.toString(candidates));
			}
			return configured;
		}
		if (candidates.length == 1) {
			return candidates[0];
		}
		throw new InvalidConfigurationException("handler", null, (candidates.length == 0)
				? "name the ConnectionHandler bean that receives this connection's messages, and no bean implements "
						+ "io.resilientws.client.ConnectionHandler: declare one"
				: "name one of the ConnectionHandler beans " + Arrays.toString(candidates)
						+ " (with more than one, each connection must say which it uses)");
	}

}
