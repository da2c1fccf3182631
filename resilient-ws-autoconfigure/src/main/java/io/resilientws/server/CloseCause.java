package io.resilientws.server;

import org.jspecify.annotations.Nullable;

/**
 * Why a server session ended, from a fixed set (it is a meter tag, so it must stay bounded).
 */
public enum CloseCause {

	/** 1000 (or no code, or an application code 4000-4999) from either side. */
	NORMAL("normal"),

	/** The client left: 1001. */
	GOING_AWAY("going-away"),

	/** The client did not answer pings: terminated by the heartbeat. */
	HEARTBEAT_TIMEOUT("heartbeat-timeout"),

	/** The client did not read fast enough: terminated under the TERMINATE overflow policy. */
	SLOW_CONSUMER("slow-consumer"),

	/** The client sent a message over the size limit: 1009. */
	TOO_BIG("too-big"),

	/** The client sent messages faster than the inbound rate: 1008. */
	RATE_LIMITED("rate-limited"),

	/** The application stopped and drained its sessions. */
	SHUTDOWN("shutdown"),

	/** The connection died without a close frame: 1006. */
	ABNORMAL("abnormal"),

	/** A protocol, data or server error: 1002, 1003, 1007, 1010, 1011 and other codes. */
	ERROR("error");

	private final String tag;

	CloseCause(String tag) {
		this.tag = tag;
	}

	/** The value used as the {@code cause} meter tag. */
	public String tag() {
		return this.tag;
	}

	/** The cause of a close nobody on this side asked for, from its code. */
	static CloseCause fromCode(int code, @Nullable CloseCause setByServer) {
		if (setByServer != null) {
			return setByServer;
		}
		return switch (code) {
			case 1000, 1005 -> NORMAL;
			case 1001 -> GOING_AWAY;
			case 1006 -> ABNORMAL;
			case 1009 -> TOO_BIG;
			default -> (code >= 4000 && code <= 4999) ? NORMAL : ERROR;
		};
	}

}
