package io.resilientws.client;

import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;

import io.resilientws.heartbeat.Heartbeat;
import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;

/**
 * What the heartbeat of one connect attempt does with its transport. Called on the scheduler thread;
 * it reads the state machine under its lock and pings after the lock is released.
 */
final class HeartbeatLink implements Heartbeat.Peer {

	private final ConnectionStateMachine machine;

	private final int generation;

	private final HeartbeatSettings settings;

	private final OutboundQueue outbound;

	HeartbeatLink(ConnectionStateMachine machine, int generation, HeartbeatSettings settings, OutboundQueue outbound) {
		this.machine = machine;
		this.generation = generation;
		this.settings = settings;
		this.outbound = outbound;
	}

	@Override
	public void sendPing() {
		WebSocket ws = this.machine.openTransport(this.generation);
		if (ws == null) {
			return;
		}
		if (this.settings.mode() == HeartbeatMode.TEXT) {
			// Ahead of queued data, at most one waiting, within the buffer limit: a ping still waiting
			// from the last interval answers for this one, and the check counts it missed.
			this.outbound.offerHeartbeat(OutboundMessage.unobservedText(this.settings.pingText()));
			return;
		}
		try {
			ws.sendPing(ByteBuffer.allocate(0));
		}
		catch (IllegalStateException previousPingStillPending) {
			// The last ping is not even written yet: the link is stuck, and the check will count it.
		}
	}

	@Override
	public void declareDead(String description) {
		this.machine.heartbeatFailed(this.generation, description);
	}

	@Override
	public void pingAnswered(Duration roundTrip) {
		this.machine.heartbeatAnswered(this.generation, roundTrip);
	}

	@Override
	public void pingMissed(int consecutive) {
		this.machine.heartbeatMissed(this.generation, consecutive);
	}

}
