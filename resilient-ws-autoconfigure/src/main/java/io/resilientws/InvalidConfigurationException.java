package io.resilientws;

import org.jspecify.annotations.Nullable;

/**
 * A setting has a value resilient-ws cannot work with. Names the property and what to put there, so
 * the failure analyzer can tell the user exactly what to fix.
 * <p>
 * A value that may be a secret (a handshake header's value) is never carried: see
 * {@link #hiddenValue(String, String)}.
 */
public class InvalidConfigurationException extends IllegalArgumentException {

	private final String property;

	private final @Nullable Object value;

	private final boolean valueHidden;

	private final String requirement;

	/**
	 * @param property the property, relative (e.g. {@code reconnect.initial-delay}) or fully qualified
	 * @param value the offending value, null when missing; shown in the message, so never a secret
	 * (pass a URL in its redacted form)
	 * @param requirement what the value must be, phrased to complete "must ..." (e.g. "be positive")
	 */
	public InvalidConfigurationException(String property, @Nullable Object value, String requirement) {
		this(property, value, false, requirement);
	}

	private InvalidConfigurationException(String property, @Nullable Object value, boolean valueHidden,
			String requirement) {
		super(message(property, value, valueHidden, requirement));
		this.property = property;
		this.value = value;
		this.valueHidden = valueHidden;
		this.requirement = requirement;
	}

	/**
	 * A property whose value is set but invalid and must not be shown (it may be a credential): the
	 * exception does not hold it, and its message says that it is not shown.
	 */
	public static InvalidConfigurationException hiddenValue(String property, String requirement) {
		return new InvalidConfigurationException(property, null, true, requirement);
	}

	private static String message(String property, @Nullable Object value, boolean valueHidden,
			String requirement) {
		if (valueHidden) {
			return "Invalid value (not shown) for property '" + property + "': it must " + requirement;
		}
		return (value != null) ? "Invalid value '" + value + "' for property '" + property + "': it must " + requirement
				: "Property '" + property + "' is missing: it must " + requirement;
	}

	public String getProperty() {
		return this.property;
	}

	/** The offending value; null when the property is missing or its value is hidden. */
	public @Nullable Object getValue() {
		return this.value;
	}

	/** Whether the property is set to a value that is not shown (see {@link #hiddenValue}). */
	public boolean isValueHidden() {
		return this.valueHidden;
	}

	public String getRequirement() {
		return this.requirement;
	}

	/** The same problem, with the property name qualified by {@code prefix} (e.g. {@code resilient-ws.client.connections.ticker.}). */
	public InvalidConfigurationException withPrefix(String prefix) {
		InvalidConfigurationException qualified = new InvalidConfigurationException(prefix + this.property, this.value,
				this.valueHidden, this.requirement);
		qualified.setStackTrace(getStackTrace());
		return qualified;
	}

}
