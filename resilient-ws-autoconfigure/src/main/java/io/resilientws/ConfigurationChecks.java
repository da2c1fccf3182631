package io.resilientws;

import java.time.Duration;

import org.springframework.util.unit.DataSize;

/** The checks every resilient-ws setting goes through, each failing with the property to fix. */
public final class ConfigurationChecks {

	private ConfigurationChecks() {
	}

	public static void positive(String property, Duration value) {
		if (value.isNegative() || value.isZero()) {
			throw new InvalidConfigurationException(property, value, "be a positive duration, such as 10s");
		}
	}

	public static void positive(String property, DataSize value) {
		if (value.toBytes() <= 0) {
			throw new InvalidConfigurationException(property, value, "be a positive size, such as 512KB");
		}
	}

	/** Codes a reconnect policy may name: any of the protocol's range. */
	public static void closeCodes(String property, Iterable<Integer> codes) {
		for (int code : codes) {
			if (!CloseCodes.isValid(code)) {
				throw new InvalidConfigurationException(property, code,
						"hold only close codes from 1000 to 4999 (4000-4999 are for applications)");
			}
		}
	}

	/** A code the application sends in a close frame. */
	public static void sendableCode(String property, int code) {
		if (!CloseCodes.isSendable(code)) {
			throw new InvalidConfigurationException(property, code,
					"be a close code that may be sent, from 1000 to 4999 except 1004, 1005, 1006 and 1015");
		}
	}

}
