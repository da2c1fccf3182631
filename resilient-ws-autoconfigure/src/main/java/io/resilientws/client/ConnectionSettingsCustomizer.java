package io.resilientws.client;

import java.util.function.Consumer;

/**
 * Adjusts the settings of one configured connection where YAML cannot say it (a value computed at
 * startup, a header taken from a secret store). Declare it as a bean: it is applied after the
 * connection's properties under {@code resilient-ws.client.connections.<name>} and before they are
 * validated, so a customizer's mistake fails startup like a property's. Several customizers of one
 * connection are applied in their {@link org.springframework.core.annotation.Order order}.
 */
public interface ConnectionSettingsCustomizer {

	/** The name of the connection this customizer applies to, as under {@code connections.<name>}. */
	String connectionName();

	/** Changes the settings builder, which already holds the defaults and the connection's properties. */
	void customize(ConnectionSettings.Builder builder);

	/** A customizer of the connection named {@code connectionName}. */
	static ConnectionSettingsCustomizer of(String connectionName, Consumer<ConnectionSettings.Builder> customizer) {
		return new ConnectionSettingsCustomizer() {
			@Override
			public String connectionName() {
				return connectionName;
			}

			@Override
			public void customize(ConnectionSettings.Builder builder) {
				customizer.accept(builder);
			}

			@Override
			public String toString() {
				return "ConnectionSettingsCustomizer[" + connectionName + "]";
			}
		};
	}

}
