package io.resilientws.autoconfigure;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import javax.net.ssl.SSLContext;

import io.resilientws.InvalidConfigurationException;
import io.resilientws.client.ConnectionHandler;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionSettings;
import io.resilientws.client.ConnectionSettingsCustomizer;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundles;

/**
 * Registers the connections declared under {@code resilient-ws.client.connections} with whichever
 * {@link ConnectionRegistry} the application has: the starter's, or one the application defines
 * itself (which would otherwise silently lose them). Every connection's settings are built from the
 * defaults, its own properties and its {@link ConnectionSettingsCustomizer}s, then validated, so a
 * mistake stops the application with the name of the property to fix.
 */
final class ConfiguredConnectionsRegistrar implements InitializingBean {

	private final ConnectionRegistry registry;

	private final ResilientWsClientProperties properties;

	private final ObjectProvider<SslBundles> sslBundles;

	private final ListableBeanFactory beanFactory;

	private final List<ConnectionSettingsCustomizer> customizers;

	ConfiguredConnectionsRegistrar(ConnectionRegistry registry, ResilientWsClientProperties properties,
			ObjectProvider<SslBundles> sslBundles, ListableBeanFactory beanFactory,
			List<ConnectionSettingsCustomizer> customizers) {
		this.registry = registry;
		this.properties = properties;
		this.sslBundles = sslBundles;
		this.beanFactory = beanFactory;
		this.customizers = customizers;
	}

	@Override
	public void afterPropertiesSet() {
		checkCustomizersNameConnections();
		ResilientWsClientProperties.Connection defaults = this.properties.getDefaults();
		this.properties.getConnections().forEach((name, connection) -> {
			try {
				ConnectionSettings.Builder builder = defaultsBuilder(defaults);
				connection.applyTo(builder);
				this.customizers.stream()
					.filter((customizer) -> customizer.connectionName().equals(name))
					.forEach((customizer) -> customizer.customize(builder));
				ConnectionSettings settings = builder.build();
				checkSslBundle(settings, this.sslBundles);
				String handler = (connection.getHandler() != null) ? connection.getHandler() : defaults.getHandler();
				this.registry.register(name, settings,
						new BeanConnectionHandler(this.beanFactory, handlerBeanName(handler, this.beanFactory)));
			}
			catch (InvalidConfigurationException ex) {
				throw ex.withPrefix(ResilientWsClientAutoConfiguration.PREFIX + "connections." + name + ".");
			}
		});
	}

	// A customizer for a name that is not configured would otherwise do nothing, without a word.
	private void checkCustomizersNameConnections() {
		Set<String> configured = new TreeSet<>(this.properties.getConnections().keySet());
		for (ConnectionSettingsCustomizer customizer : this.customizers) {
			if (!configured.contains(customizer.connectionName())) {
				throw new InvalidConfigurationException(ResilientWsClientAutoConfiguration.PREFIX + "connections",
						null, "declare a connection named '" + customizer.connectionName() + "' for the customizer "
								+ customizer + ", or remove that customizer; configured connections are " + configured);
			}
		}
	}

	static ConnectionSettings.Builder defaultsBuilder(ResilientWsClientProperties.Connection defaults) {
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

	static SSLContext sslContext(ObjectProvider<SslBundles> sslBundles, String bundle) {
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
