package io.resilientws.client;

import java.util.Set;
import java.util.TreeSet;

/**
 * Decides from the way a connection ended whether it comes back.
 * <p>
 * A local close never reconnects. Otherwise the close code decides: by default 1001, 1006 (which
 * includes heartbeat death and failed connects), 1011, 1012, 1013 and 1014 reconnect; every other code
 * does not, because it was intentional (1000) or would only happen again (1002, 1003, 1007, 1008,
 * 1009, 1010, application codes). {@code extraCodes} adds codes that reconnect; {@code neverCodes}
 * removes codes and wins over both.
 */
public final class ReconnectPolicy {

	private final Set<Integer> reconnectCodes;

	public ReconnectPolicy(Set<Integer> extraCodes, Set<Integer> neverCodes) {
		Set<Integer> codes = new TreeSet<>(ReconnectSettings.DEFAULT_RECONNECT_CODES);
		codes.addAll(extraCodes);
		codes.removeAll(neverCodes);
		this.reconnectCodes = Set.copyOf(codes);
	}

	public static ReconnectPolicy defaults() {
		return new ReconnectPolicy(Set.of(), Set.of());
	}

	public boolean shouldReconnect(CloseInitiator initiator, int code) {
		return initiator != CloseInitiator.LOCAL && this.reconnectCodes.contains(code);
	}

	/** The codes after which a remote or abnormal close reconnects. */
	public Set<Integer> reconnectCodes() {
		return this.reconnectCodes;
	}

	@Override
	public String toString() {
		return "ReconnectPolicy[reconnect on " + new TreeSet<>(this.reconnectCodes) + "]";
	}

}
