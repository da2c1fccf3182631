package io.resilientws;

import org.jspecify.annotations.Nullable;

/**
 * A setting has a value resilient-ws cannot work with. Names the property and what to put there, so
 * the failure analyzer can tell the user exactly what to fix.
 */
public class InvalidConfigurationException extends IllegalArgumentException {

	private final String property;

	private final @Nullable Object value;

	private final String requirement;

	/**
	 * @param property the property, relative (e.g. {@code reconnect.initial-delay}) or fully qualified
	 * @param value the offending value, null when missing
	 * @param requirement what the value must be, phrased to complete "must ..." (e.g. "be positive")
	 */
	public InvalidConfigurationException(String property, @Nullable Object value, String requirement) {
		super(message(property, value, requirement));
		this.property = property;
		this.value = value;
		this.requirement = requirement;
	}

	private static String message(String property, @Nullable Object value, String requirement) {
		return (value != null) ? "Invalid value '" + value + "' for property '" + property + "': it must " + requirement
				: "Property '" + property + "' is missing: it must " + requirement;
	}

	public String getProperty() {
		return this.property;
	}

	public @Nullable Object getValue() {
		return this.value;
	}

	public String getRequirement() {
		return this.requirement;
	}

	/** The same problem, with the property name qualified by {@code prefix} (e.g. {@code resilient-ws.client.connections.ticker.}). */
	public InvalidConfigurationException withPrefix(String prefix) {
		InvalidConfigurationException qualified = new InvalidConfigurationException(prefix + this.property, this.value,
				this.requirement);
		qualified.setStackTrace(getStackTrace());
		return qualified;
	}

}
