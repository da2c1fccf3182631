package io.resilientws.autoconfigure.health;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The websockets health contributor as a whole: {@code resilient-ws.health.*}. Each connection's own
 * health settings are under {@code resilient-ws.client.connections.<name>.health}.
 */
@ConfigurationProperties("resilient-ws.health")
public class ResilientWsHealthProperties {

	/**
	 * Whether the websockets health contributor is also a member of the readiness group
	 * (/actuator/health/readiness), so that connections DOWN for longer than their down-after make the
	 * application not ready.
	 */
	private boolean includeInReadiness;

	public boolean isIncludeInReadiness() {
		return this.includeInReadiness;
	}

	public void setIncludeInReadiness(boolean includeInReadiness) {
		this.includeInReadiness = includeInReadiness;
	}

}
