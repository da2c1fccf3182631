package io.resilientws.server;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.send.OverflowPolicy;
import io.resilientws.send.SendLimits;
import io.resilientws.send.SendResult;
import io.resilientws.testsupport.FakeContainerSession;
import io.resilientws.testsupport.ManualTaskScheduler;
import io.resilientws.testsupport.StepExecutor;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.PingMessage;
import org.springframework.web.socket.PongMessage;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketMessage;

import static org.assertj.core.api.Assertions.fail;

/**
 * The server side's counterpart of the client's schedule test: seeded random interleavings of sends,
 * broadcasts, application closes, peer closes, write failures, heartbeat deaths, a drain and the I/O
 * pool's tasks, run one at a time in an order the seed picks, for a few sessions of one registry on a
 * fake container session and a manual clock. After every step the threading model's rules are checked:
 * <ul>
 * <li>no write or close of the container's session, no delivery outcome and no session event runs
 * while a send buffer's lock is held;</li>
 * <li>a closed session is published closed once and is no longer registered;</li>
 * <li>the first close code is the one its cause calls for: 1001 for a drain or a dead heartbeat, 1013
 * for a full buffer, 1011 only after a failed write, else the application's;</li>
 * <li>every accepted message's delivery future completes by the end.</li>
 * </ul>
 * A failure names its seed; {@code -Dschedule.seed=N} replays that one schedule alone.
 */
class ManagedSessionScheduleTest {

	private static final int SCHEDULES = 300;

	private static final int STEPS = 200;

	private static final int SESSIONS = 3;

	private static final int[] APP_CLOSE_CODES = { 1000, 1003, 1008, 4000 };

	private static final int[] PEER_CLOSE_CODES = { 1000, 1001, 1006, 1011, 4001 };

	private static final ch.qos.logback.classic.Logger REGISTRY_LOG = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
		.getLogger(ServerSessionRegistry.class);

	private static ch.qos.logback.classic.Level logLevel;

	// Every schedule drains once, and each drain logs a line.
	@BeforeAll
	static void quietRegistryLog() {
		logLevel = REGISTRY_LOG.getLevel();
		REGISTRY_LOG.setLevel(ch.qos.logback.classic.Level.WARN);
	}

	@AfterAll
	static void restoreRegistryLog() {
		REGISTRY_LOG.setLevel(logLevel);
	}

	@Test
	void everyScheduleKeepsTheThreadingRules() {
		String replay = System.getProperty("schedule.seed");
		if (replay != null) {
			new Schedule(Long.parseLong(replay)).run();
			return;
		}
		long first = new Random().nextLong();
		System.out.println("schedule seeds from " + first + " (replay one with -Dschedule.seed=N)");
		for (int i = 0; i < SCHEDULES; i++) {
			new Schedule(first + i).run();
		}
	}

	private static final class Schedule {

		private final long seed;

		private final Random random;

		private final ManualTaskScheduler scheduler = new ManualTaskScheduler();

		private final StepExecutor pool = new StepExecutor();

		private final ServerSessionRegistry registry;

		private final List<Peer> peers = new ArrayList<>();

		private final List<SendResult> results = new ArrayList<>();

		private final List<String> violations = new ArrayList<>();

		private boolean drained;

		Schedule(long seed) {
			this.seed = seed;
			this.random = new Random(seed);
			HeartbeatSettings heartbeat = new HeartbeatSettings(true, Duration.ofSeconds(1), Duration.ofSeconds(1), 1,
					true, HeartbeatMode.FRAME, HeartbeatSettings.DEFAULT_PING_TEXT, HeartbeatSettings.DEFAULT_PONG_TEXT);
			ServerSettings settings = new ServerSettings(heartbeat,
					new ServerSettings.AppHeartbeat(false, "__rws_ping__", "__rws_pong__"),
					new SendLimits(64, OverflowPolicy.REJECT, Duration.ofSeconds(1), 0, 1),
					this.random.nextBoolean() ? ServerOverflowPolicy.TERMINATE : ServerOverflowPolicy.DROP_NEWEST,
					Duration.ofSeconds(2), 1013, 0, 0, 10, 0, 0, Duration.ofSeconds(10), List.of(),
					new ServerSettings.Shutdown(1001, Duration.ofMillis(500), Duration.ofSeconds(1)), ServerSettings.Resume.DISABLED);
			this.registry = new ServerSessionRegistry(settings, this.scheduler, () -> {
			}, this.pool);
			this.registry.addListener(this::event);
			this.registry.start();
			for (int i = 0; i < SESSIONS; i++) {
				Peer peer = new Peer("s" + i);
				peer.managed = this.registry.opened(peer, "/chat");
				this.peers.add(peer);
			}
		}

		void run() {
			try {
				for (int step = 0; step < STEPS; step++) {
					step();
					check("step " + step);
				}
				settle();
				check("the end");
				for (SendResult result : this.results) {
					if (result.isAccepted() && !result.delivery().isDone()) {
						this.violations.add("an accepted message's delivery never completed");
					}
				}
			}
			catch (RuntimeException | AssertionError ex) {
				throw new AssertionError("schedule seed " + this.seed + ": " + ex, ex);
			}
			if (!this.violations.isEmpty()) {
				fail("schedule seed " + this.seed + ": " + this.violations.get(0) + " (" + this.violations.size()
						+ " violations)");
			}
		}

		private void step() {
			Peer peer = this.peers.get(this.random.nextInt(this.peers.size()));
			int choice = this.random.nextInt(100);
			if (choice < 35) {
				this.pool.runOne(this.random);
			}
			else if (choice < 50) {
				SendResult result = peer.managed.send("m" + this.random.nextInt(1000));
				watch(result);
			}
			else if (choice < 57) {
				this.registry.broadcast("b" + this.random.nextInt(1000));
			}
			else if (choice < 60) {
				sendThroughSpringApi(peer);
			}
			else if (choice < 66) {
				this.scheduler.advance(Duration.ofMillis(100 + this.random.nextInt(400)));
			}
			else if (choice < 72) {
				peer.managed.inbound(new PongMessage());
			}
			else if (choice < 76) {
				peer.failWrites = true;
			}
			else if (choice < 80) {
				peer.managed.close(new CloseStatus(APP_CLOSE_CODES[this.random.nextInt(APP_CLOSE_CODES.length)]));
			}
			else if (choice < 83) {
				peerCloses(peer, PEER_CLOSE_CODES[this.random.nextInt(PEER_CLOSE_CODES.length)]);
			}
			else if (choice < 86) {
				// Silence past the heartbeat's timeout: no pong comes, the sweep declares the peer dead.
				this.scheduler.advance(Duration.ofSeconds(3));
			}
			else if (choice < 88 && !this.drained) {
				this.drained = true;
				this.registry.stop(() -> {
				});
			}
			else {
				this.pool.runOne(this.random);
			}
		}

		private void sendThroughSpringApi(Peer peer) {
			WebSocketMessage<?> message = this.random.nextBoolean() ? new TextMessage("spring")
					: new PingMessage();
			try {
				peer.managed.sendMessage(message);
			}
			catch (IOException ex) {
				this.violations.add("sendMessage threw " + ex);
			}
		}

		private void watch(SendResult result) {
			this.results.add(result);
			result.delivery().whenComplete((ignored, failure) -> underLock("a delivery outcome"));
		}

		/** The peer's close frame arrives: the container tells the handler, one step later. */
		private void peerCloses(Peer peer, int code) {
			if (peer.peerClosed) {
				return;
			}
			peer.peerClosed = true;
			this.pool.execute(() -> peer.containerClosed(new CloseStatus(code)));
		}

		/** The peers' closes delivered and the registry stopped, runs the pool and the clock until nothing is left. */
		private void settle() {
			for (Peer peer : this.peers) {
				peerCloses(peer, 1006);
			}
			// The registry's sweep reschedules itself until the registry stops.
			if (!this.drained) {
				this.registry.stop(() -> {
				});
			}
			for (int round = 0; round < 100 && (this.pool.pending() > 0 || this.scheduler.pendingTasks() > 0); round++) {
				while (this.pool.pending() > 0) {
					this.pool.runOne(this.random);
				}
				this.scheduler.advance(Duration.ofSeconds(1));
			}
		}

		private void event(SessionEvent event) {
			underLock("a session event");
			if (event instanceof SessionEvent.Closed closed) {
				Peer peer = find(closed.sessionId());
				if (peer.closedEvents++ > 0) {
					this.violations.add(closed.sessionId() + " published Closed twice");
				}
			}
		}

		private void check(String when) {
			for (Peer peer : this.peers) {
				if (peer.closedEvents > 0 && this.registry.find(peer.getId()).isPresent()) {
					this.violations.add(when + ": " + peer.getId() + " closed but still registered");
				}
				Integer first = peer.firstCloseCode;
				if (first != null && !peer.expectedCloseCodes().contains(first)) {
					this.violations.add(when + ": " + peer.getId() + " closed with " + first + ", expected one of "
							+ peer.expectedCloseCodes());
				}
			}
		}

		/** Records a violation when any session's send-buffer lock is held by this thread now. */
		private void underLock(String what) {
			for (Peer peer : this.peers) {
				if (peer.managed != null && ScheduleLocks.sendBufferLockHeld(peer.managed)) {
					this.violations.add(what + " ran under " + peer.getId() + "'s send buffer lock");
				}
			}
		}

		private Peer find(String id) {
			return this.peers.stream().filter((peer) -> peer.getId().equals(id)).findFirst().orElseThrow();
		}

		/** The container's session: records what the library does to it, and fails writes when told. */
		private final class Peer extends FakeContainerSession {

			private final String id;

			ManagedSession managed;

			boolean failWrites;

			boolean writeFailed;

			boolean peerClosed;

			/** Set by the container once the handler was told: from then on the session is gone. */
			boolean handlerToldClosed;

			@Nullable Integer firstCloseCode;

			int closedEvents;

			Peer(String id) {
				super(id, URI.create("ws://localhost/chat"));
				this.id = id;
			}

			List<Integer> expectedCloseCodes() {
				List<Integer> codes = new ArrayList<>();
				for (int code : APP_CLOSE_CODES) {
					codes.add(code);
				}
				// A dead heartbeat and a drain close with 1001, a full buffer with 1013, a failed write with 1011.
				codes.add(1001);
				codes.add(1013);
				if (this.writeFailed) {
					codes.add(1011);
				}
				return codes;
			}

			void containerClosed(CloseStatus status) {
				if (this.handlerToldClosed) {
					return;
				}
				this.handlerToldClosed = true;
				Schedule.this.registry.closed(this, status);
			}

			@Override
			public void sendMessage(WebSocketMessage<?> message) throws IOException {
				underLock("a write to the container's session");
				if (this.handlerToldClosed) {
					// The container refuses to write on a closed session, as Tomcat does.
					throw new IOException("session closed");
				}
				if (this.failWrites && !(message instanceof PingMessage)) {
					this.writeFailed = true;
					throw new IOException("broken pipe");
				}
			}

			@Override
			public void close(CloseStatus status) {
				underLock("a close of the container's session");
				if (this.firstCloseCode == null) {
					this.firstCloseCode = status.getCode();
				}
				// The container answers a close with the handler's afterConnectionClosed, a moment later.
				Schedule.this.pool.execute(() -> containerClosed(status));
			}

			@Override
			public boolean isOpen() {
				return !this.handlerToldClosed;
			}

		}

	}

}
