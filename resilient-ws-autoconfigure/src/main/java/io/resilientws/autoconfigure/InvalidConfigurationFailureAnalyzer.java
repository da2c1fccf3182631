package io.resilientws.autoconfigure;

import io.resilientws.InvalidConfigurationException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns an invalid resilient-ws setting into a startup report that names the property and the fix,
 * instead of a stack trace.
 */
class InvalidConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<InvalidConfigurationException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, InvalidConfigurationException cause) {
		String description = "The resilient-ws property '" + cause.getProperty() + "' ";
		if (cause.isValueHidden()) {
			description += "has an invalid value (not shown: it may be a credential).";
		}
		else if (cause.getValue() != null) {
			description += "has the invalid value '" + cause.getValue() + "'.";
		}
		else {
			description += "is not set.";
		}
		String action = "Update your application's configuration: '" + cause.getProperty() + "' must "
				+ cause.getRequirement() + ".";
		return new FailureAnalysis(description, action, cause);
	}

}
