package io.resilientws.health;

import java.time.Duration;

/**
 * How one connection takes part in health.
 *
 * @param enabled whether the connection is part of the health contributor at all
 * @param downAfter how long the connection may try to (re)open, with status {@code RECONNECTING},
 * before its status is DOWN
 */
public record ConnectionHealthSettings(boolean enabled, Duration downAfter) {

	/** The defaults: enabled, DOWN after 30 seconds. */
	public static final ConnectionHealthSettings DEFAULTS = new ConnectionHealthSettings(true, Duration.ofSeconds(30));

}
