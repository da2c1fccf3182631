package io.resilientws.heartbeat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledFuture;

import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;

/**
 * The liveness check of one connection, run on a scheduler shared by all connections.
 * <p>
 * Every {@code interval} a ping goes out; {@code timeout} later one task looks whether anything proving
 * life has arrived since. Reads only record a timestamp, so a busy connection costs no more than an
 * idle one, and there is never more than one pending task per connection. After {@code maxMissed}
 * consecutive unanswered pings the peer is declared dead, so a silent loss is noticed within
 * {@code maxMissed × interval + timeout} of the last sign of life.
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

	private final TaskScheduler scheduler;

	private final Clock clock;

	private final Peer peer;

	// Guarded by this.

	/** When the current ping went out, null before the first. */
	private @Nullable Instant pingSentAt;

	/** The latest sign of life (a pong, or any frame if that counts). */
	private Instant lastLifeAt;

	private int missed;

	/** Whether the current ping still waits for its pong (for the round-trip time). */
	private boolean awaitingPong;

	private long answeredPings;

	private @Nullable Duration lastRoundTrip;

	private @Nullable ScheduledFuture<?> task;

	private boolean running;

	public HeartbeatSettings settings() {
		return this.settings;
	}

	public Heartbeat(HeartbeatSettings settings, TaskScheduler scheduler, Peer peer) {
		this.settings = settings;
		this.scheduler = scheduler;
		this.clock = scheduler.getClock();
		this.peer = peer;
		this.lastLifeAt = this.clock.instant();
	}

	/** Starts pinging; the first ping goes out one interval from now. */
	public synchronized void start() {
		if (!this.settings.enabled() || this.running) {
			return;
		}
		this.running = true;
		this.lastLifeAt = this.clock.instant();
		this.task = this.scheduler.schedule(this::ping, this.lastLifeAt.plus(this.settings.interval()));
	}

	public synchronized void stop() {
		this.running = false;
		if (this.task != null) {
			this.task.cancel(false);
			this.task = null;
		}
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

	private synchronized void lifeSeen() {
		this.lastLifeAt = this.clock.instant();
	}

	/** The round trip of the latest answered ping, null before the first answer. */
	public synchronized @Nullable Duration lastRoundTrip() {
		return this.lastRoundTrip;
	}

	private void ping() {
		synchronized (this) {
			if (!this.running) {
				return;
			}
			this.pingSentAt = this.clock.instant();
			this.awaitingPong = true;
			this.task = this.scheduler.schedule(this::check, this.pingSentAt.plus(this.settings.timeout()));
		}
		this.peer.sendPing();
	}

	private void check() {
		String death = null;
		int missedNow = 0;
		synchronized (this) {
			if (!this.running || this.pingSentAt == null) {
				return;
			}
			if (this.lastLifeAt.isAfter(this.pingSentAt) || this.lastLifeAt.equals(this.pingSentAt)) {
				this.missed = 0;
				this.answeredPings++;
			}
			else {
				this.missed++;
				missedNow = this.missed;
			}
			if (this.missed < this.settings.maxMissed()) {
				Instant now = this.clock.instant();
				Instant nextPing = this.pingSentAt.plus(this.settings.interval());
				this.task = this.scheduler.schedule(this::ping, nextPing.isBefore(now) ? now : nextPing);
			}
			else {
				this.running = false;
				this.task = null;
				death = "no " + ((this.settings.mode() == HeartbeatMode.TEXT) ? "heartbeat reply" : "pong")
						+ " within " + this.settings.timeout().toMillis() + " ms (" + this.missed
						+ " consecutive missed) after " + this.answeredPings + " answered pings; last sign of life "
						+ Duration.between(this.lastLifeAt, this.clock.instant()).toMillis() + " ms ago";
			}
		}
		if (missedNow > 0) {
			this.peer.pingMissed(missedNow);
		}
		if (death != null) {
			this.peer.declareDead(death);
		}
	}

}
