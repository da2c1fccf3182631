package io.resilientws.heartbeat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * The liveness check of one connection, driven by a {@link HeartbeatSweep} shared by all connections.
 * <p>
 * Every {@code interval} a ping goes out; {@code timeout} later the sweep looks whether anything
 * proving life has arrived since. Reads only record a timestamp, so a busy connection costs no more
 * than an idle one, and a heartbeat owns no timer task at all. After {@code maxMissed} consecutive
 * unanswered pings the peer is declared dead, so a silent loss is noticed within
 * {@code maxMissed × interval + timeout} of the last sign of life (plus at most one
 * 50 ms tick of the sweep).
 */
public final class Heartbeat {

	/** The connection side of a heartbeat. Calls come from the scheduler thread and must not block. */
	public interface Peer {

		void sendPing();

		/** The peer missed too many pings; {@code description} says how many and since when. */
		void declareDead(String description);

		/** A ping was answered after {@code roundTrip} (for metrics: called outside the heartbeat's lock). */
		default void pingAnswered(Duration roundTrip) {
		}

		/**
		 * A ping went unanswered for the timeout; {@code consecutive} pings are missed in a row. Called
		 * before {@link #declareDead} when this miss is the last one allowed.
		 */
		default void pingMissed(int consecutive) {
		}

	}

	private final HeartbeatSettings settings;

	private final HeartbeatSweep sweep;

	private final Clock clock;

	private final Peer peer;

	/** When the sweep next has something to do here; null when the heartbeat is not running. */
	private volatile @Nullable Instant dueAt;

	// Guarded by this.

	/** When the current ping went out, null before the first. */
	private @Nullable Instant pingSentAt;

	/** When the current ping is checked for an answer; null while no ping awaits its check. */
	private @Nullable Instant checkAt;

	/** When the next ping is due: the rhythm is kept from the start, however late the sweep ran. */
	private Instant nextPingAt;

	/** The latest sign of life (a pong, or any frame if that counts). */
	private Instant lastLifeAt;

	private int missed;

	/** Whether the current ping still waits for its pong (for the round-trip time). */
	private boolean awaitingPong;

	private long answeredPings;

	private @Nullable Duration lastRoundTrip;

	private boolean running;

	public HeartbeatSettings settings() {
		return this.settings;
	}

	public Heartbeat(HeartbeatSettings settings, HeartbeatSweep sweep, Peer peer) {
		this.settings = settings;
		this.sweep = sweep;
		this.clock = sweep.clock();
		this.peer = peer;
		this.lastLifeAt = this.clock.instant();
		this.nextPingAt = this.lastLifeAt;
	}

	/** Starts pinging; the first ping goes out one interval from now. */
	public void start() {
		Instant firstPing;
		synchronized (this) {
			if (!this.settings.enabled() || this.running) {
				return;
			}
			this.running = true;
			this.lastLifeAt = this.clock.instant();
			this.nextPingAt = this.lastLifeAt.plus(this.settings.interval());
			this.dueAt = this.nextPingAt;
			firstPing = this.nextPingAt;
		}
		this.sweep.add(this, firstPing);
	}

	/** Stops pinging; the sweep lets go of the heartbeat when its next due time comes round. */
	public synchronized void stop() {
		this.running = false;
		this.dueAt = null;
	}

	/** Any inbound frame: proves life only when the settings say so. */
	public void frameReceived() {
		if (this.settings.anyFrameCounts()) {
			lifeSeen();
		}
	}

	/** A pong (or, in text mode, the expected pong text): always proves life. */
	public void pongReceived() {
		Duration answered = null;
		synchronized (this) {
			Instant now = this.clock.instant();
			if (this.awaitingPong && this.pingSentAt != null) {
				this.lastRoundTrip = Duration.between(this.pingSentAt, now);
				this.awaitingPong = false;
				answered = this.lastRoundTrip;
			}
			this.lastLifeAt = now;
		}
		if (answered != null) {
			this.peer.pingAnswered(answered);
		}
	}

	/**
	 * The ping of this round was not sent after all (the server's session was busy writing, and the
	 * ping would only have waited behind that write): no answer is expected, no miss is counted, and the
	 * next ping goes out at its usual time.
	 */
	public synchronized void pingSkipped() {
		if (this.awaitingPong && this.checkAt != null) {
			this.awaitingPong = false;
			this.checkAt = null;
			if (this.running) {
				this.dueAt = this.nextPingAt;
			}
		}
	}

	private synchronized void lifeSeen() {
		this.lastLifeAt = this.clock.instant();
	}

	/** The round trip of the latest answered ping, null before the first answer. */
	public synchronized @Nullable Duration lastRoundTrip() {
		return this.lastRoundTrip;
	}

	@Nullable Instant dueAt() {
		return this.dueAt;
	}

	/**
	 * The sweep's call once {@link #dueAt()} has come: checks the pending ping, sends the next.
	 * @return when the sweep should call again; null when the heartbeat has ended
	 */
	@Nullable Instant beat(Instant now) {
		boolean ping = false;
		int missedNow = 0;
		String death = null;
		synchronized (this) {
			if (!this.running) {
				return null;
			}
			if (this.checkAt != null && !now.isBefore(this.checkAt)) {
				this.checkAt = null;
				if (!this.lastLifeAt.isBefore(this.pingSentAt)) {
					this.missed = 0;
					this.answeredPings++;
				}
				else {
					this.missed++;
					missedNow = this.missed;
				}
				if (this.missed >= this.settings.maxMissed()) {
					this.running = false;
					death = "no " + ((this.settings.mode() == HeartbeatMode.TEXT) ? "heartbeat reply" : "pong")
							+ " within " + this.settings.timeout().toMillis() + " ms (" + this.missed
							+ " consecutive missed) after " + this.answeredPings + " answered pings; last sign of life "
							+ Duration.between(this.lastLifeAt, now).toMillis() + " ms ago";
				}
			}
			if (this.running && this.checkAt == null && !now.isBefore(this.nextPingAt)) {
				ping = true;
				this.pingSentAt = now;
				this.awaitingPong = true;
				this.checkAt = now.plus(this.settings.timeout());
				this.nextPingAt = this.nextPingAt.plus(this.settings.interval());
				if (this.nextPingAt.isBefore(now)) {
					// Far behind (a long timeout, or the machine was suspended): start a new rhythm from now.
					this.nextPingAt = now.plus(this.settings.interval());
				}
			}
			this.dueAt = !this.running ? null : (this.checkAt != null) ? this.checkAt : this.nextPingAt;
		}
		if (missedNow > 0) {
			this.peer.pingMissed(missedNow);
		}
		if (death != null) {
			this.peer.declareDead(death);
		}
		if (ping) {
			this.peer.sendPing();
		}
		return this.dueAt;
	}

}
