package io.resilientws.server;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeWire;
import io.resilientws.send.OverflowPolicy;
import io.resilientws.send.SendLimits;
import io.resilientws.send.SendResult;
import io.resilientws.testsupport.FakeContainerSession;
import io.resilientws.testsupport.ManualTaskScheduler;
import io.resilientws.testsupport.StepExecutor;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.AbstractWebSocketHandler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Seeded random interleavings of what happens to resuming sessions (docs/RESUME-PROTOCOL.md): sends,
 * broadcasts, client acknowledgements and messages, lost and half-open connections, resumes with the
 * client's count, heartbeat deaths, windows that pass, application closes and a drain, with the I/O
 * pool's tasks run one at a time in an order the seed picks, on fake connections and a manual clock,
 * through the real {@link SessionTrackingHandler}. Checked after every step and at the end:
 * <ul>
 * <li>no connection write or close, handler callback, delivery outcome or session event runs while a
 * send buffer's lock is held;</li>
 * <li>what a client receives in one session is in the order it was sent, each message once, across
 * every connection of that session;</li>
 * <li>a delivery that completed is one its client received;</li>
 * <li>every accepted delivery completes, and each session's handler hears one open and, by the end, one
 * close.</li>
 * </ul>
 * A failure names its seed; {@code -Dschedule.seed=N} replays that one schedule alone.
 */
class SessionResumeScheduleTest {

	private static final int SCHEDULES = 500;

	private static final int STEPS = 300;

	private static final int CLIENTS = 2;

	@Test
	void everyScheduleKeepsOrderOnceDeliveryAndTheThreadingRules() {
		String replay = System.getProperty("schedule.seed");
		if (replay != null) {
			new Schedule(Long.parseLong(replay)).run();
			return;
		}
		long first = new Random().nextLong();
		System.out.println("resume schedule seeds from " + first + " (replay one with -Dschedule.seed=N)");
		int recovered = 0;
		int delivered = 0;
		for (int i = 0; i < SCHEDULES; i++) {
			Schedule schedule = new Schedule(first + i);
			schedule.run();
			recovered += schedule.recovered;
			delivered += schedule.delivered;
		}
		// Not a test of nothing: the schedules resumed sessions and completed deliveries.
		assertThat(recovered).as("sessions resumed over all schedules").isGreaterThan(SCHEDULES);
		assertThat(delivered).as("deliveries acknowledged over all schedules").isGreaterThan(SCHEDULES);
	}

	private static final class Schedule {

		private final long seed;

		private final Random random;

		private final ManualTaskScheduler scheduler = new ManualTaskScheduler();

		private final StepExecutor pool = new StepExecutor();

		private final ServerSessionRegistry registry;

		private final Handler handler = new Handler();

		private final SessionTrackingHandler container;

		private final List<Client> clients = new ArrayList<>();

		private final List<Sent> sent = new ArrayList<>();

		private final List<String> violations = new ArrayList<>();

		/** What happened, for the failure message: steps and writes, newest last. */
		private final List<String> trace = new ArrayList<>();

		private int counter;

		int recovered;

		int delivered;

		private int transports;

		private boolean drained;

		Schedule(long seed) {
			this.seed = seed;
			this.random = new Random(seed);
			HeartbeatSettings heartbeat = new HeartbeatSettings(true, Duration.ofSeconds(1), Duration.ofSeconds(1), 1,
					true, HeartbeatMode.FRAME, HeartbeatSettings.DEFAULT_PING_TEXT, HeartbeatSettings.DEFAULT_PONG_TEXT);
			ServerSettings settings = new ServerSettings(heartbeat,
					new ServerSettings.AppHeartbeat(false, "__rws_ping__", "__rws_pong__"),
					new SendLimits(256, OverflowPolicy.REJECT, Duration.ofSeconds(1), 0, 1),
					this.random.nextBoolean() ? ServerOverflowPolicy.TERMINATE : ServerOverflowPolicy.DROP_NEWEST,
					Duration.ofSeconds(2), 1013, 0, 0, 10, 0, 0, Duration.ofSeconds(10), List.of(),
					new ServerSettings.Shutdown(1001, Duration.ofMillis(500), Duration.ofSeconds(1)),
					new ServerSettings.Resume(true, Duration.ofSeconds(2), 64 + this.random.nextInt(2048), 10_000));
			this.registry = new ServerSessionRegistry(settings, this.scheduler, () -> {
			}, this.pool);
			this.registry.addListener((event) -> {
				underLock("a session event");
				this.trace.add("event " + event);
				if (event instanceof SessionEvent.Resumed) {
					this.recovered++;
				}
			});
			this.registry.start();
			this.container = new SessionTrackingHandler(this.handler, "/chat", this.registry);
		}

		void run() {
			try {
				for (int i = 0; i < CLIENTS; i++) {
					Client client = new Client();
					this.clients.add(client);
					client.connect(null);
				}
				for (int step = 0; step < STEPS; step++) {
					step();
					check("step " + step);
				}
				settle();
				check("the end");
				checkOutcomes();
			}
			catch (Exception | AssertionError ex) {
				throw new AssertionError("resume schedule seed " + this.seed + ": " + ex, ex);
			}
			if (!this.violations.isEmpty()) {
				fail("resume schedule seed " + this.seed + ": " + this.violations.get(0) + " ("
						+ this.violations.size() + " violations); last events:\n  "
						+ String.join("\n  ", this.trace.subList(Math.max(0, this.firstViolationAt - 40), this.firstViolationAt)));
			}
		}

		private void step() throws Exception {
			Client client = this.clients.get(this.random.nextInt(this.clients.size()));
			int choice = this.random.nextInt(100);
			this.trace.add("step " + choice + " for " + client.sessionId + " on " + ((client.current != null) ? client.current.id : null));
			if (choice < 35) {
				this.pool.runOne(this.random);
			}
			else if (choice < 47) {
				send(client);
			}
			else if (choice < 53) {
				String text = "b" + (++this.counter);
				this.registry.broadcast(text);
			}
			else if (choice < 60) {
				client.acknowledge();
			}
			else if (choice < 66) {
				client.sendData();
			}
			else if (choice < 71) {
				client.loseConnection();
			}
			else if (choice < 74) {
				// Half-open: the client gives up on a connection the server still writes to.
				client.giveUp();
			}
			else if (choice < 80) {
				client.resume();
				if (this.random.nextInt(3) == 0) {
					// The new connection dies before the client reads the answer: it still has only its old token.
					client.giveUp();
				}
			}
			else if (choice < 86) {
				this.scheduler.advance(Duration.ofMillis(50 + this.random.nextInt(400)));
			}
			else if (choice < 89) {
				// Past the heartbeat's timeout and, for a detached session, the window.
				this.scheduler.advance(Duration.ofSeconds(3));
			}
			else if (choice < 92) {
				ManagedSession session = client.session();
				if (session != null) {
					session.close(new CloseStatus(this.random.nextBoolean() ? 1000 : 4000));
				}
			}
			else if (choice < 93 && !this.drained) {
				this.drained = true;
				this.registry.stop(() -> {
				});
			}
			else {
				this.pool.runOne(this.random);
			}
		}

		private void send(Client client) {
			if (client.sessionId == null) {
				return;
			}
			String text = "m" + (++this.counter);
			SendResult result = this.registry.send(client.sessionId, text);
			if (result.isAccepted()) {
				this.sent.add(new Sent(client, client.sessionId, text, result));
				result.delivery().whenComplete((ignored, failure) -> underLock("a delivery outcome"));
			}
		}

		/** Every connection lost, windows passed, the registry stopped: runs the pool and the clock dry. */
		private void settle() {
			for (Client client : this.clients) {
				client.loseConnection();
			}
			if (!this.drained) {
				this.registry.stop(() -> {
				});
			}
			for (int round = 0; round < 100 && (this.pool.pending() > 0 || this.scheduler.pendingTasks() > 0); round++) {
				while (this.pool.pending() > 0) {
					this.pool.runOne(this.random);
				}
				this.scheduler.advance(Duration.ofSeconds(3));
			}
		}

		private void check(String when) {
			for (Client client : this.clients) {
				for (Map.Entry<String, List<Integer>> session : client.receivedBySession.entrySet()) {
					List<Integer> received = session.getValue();
					for (int i = 1; i < received.size(); i++) {
						if (received.get(i) <= received.get(i - 1)) {
							violate(when + ": session " + session.getKey() + " received " + received.get(i)
									+ " after " + received.get(i - 1));
							return;
						}
					}
				}
			}
		}

		private void checkOutcomes() {
			for (Sent one : this.sent) {
				if (!one.result().delivery().isDone()) {
					violate("the delivery of " + one.text() + " never completed");
				}
				else if (!one.result().delivery().isCompletedExceptionally()) {
					this.delivered++;
					List<Integer> received = one.client().receivedBySession.getOrDefault(one.sessionId(), List.of());
					if (!received.contains(Integer.parseInt(one.text().substring(1)))) {
						violate(one.text() + " was reported delivered but its client never received it");
					}
				}
			}
			this.handler.opened.forEach((id, count) -> {
				if (count != 1) {
					violate("session " + id + " was opened " + count + " times for its handler");
				}
				if (this.handler.closed.getOrDefault(id, 0) != 1) {
					violate("session " + id + "'s handler heard " + this.handler.closed.getOrDefault(id, 0)
							+ " closes");
				}
			});
		}

		private int firstViolationAt = -1;

		private void violate(String violation) {
			if (this.violations.isEmpty()) {
				this.firstViolationAt = this.trace.size();
			}
			this.violations.add(violation);
		}

		/** Records a violation when any session's send-buffer lock is held by this thread now. */
		private void underLock(String what) {
			for (ManagedSession session : this.registry.sessions()) {
				if (ScheduleLocks.sendBufferLockHeld(session)) {
					violate(what + " ran under " + session.getId() + "'s send buffer lock");
				}
			}
		}

		private record Sent(Client client, String sessionId, String text, SendResult result) {
		}

		/** The application's handler: counts opens and closes per session, and checks its calls' locks. */
		private final class Handler extends AbstractWebSocketHandler {

			final Map<String, Integer> opened = new HashMap<>();

			final Map<String, Integer> closed = new HashMap<>();

			@Override
			public void afterConnectionEstablished(WebSocketSession session) {
				underLock("the handler's open");
				this.opened.merge(session.getId(), 1, Integer::sum);
				Connection connection = (Connection) ((ManagedSession) session).transport();
				connection.client.sessionId = session.getId();
			}

			@Override
			protected void handleTextMessage(WebSocketSession session, TextMessage message) {
				underLock("the handler's message");
			}

			@Override
			public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
				underLock("the handler's close");
				this.closed.merge(session.getId(), 1, Integer::sum);
			}

		}

		/** One browser or Java client that resumes: its connections, token and what it received. */
		private final class Client {

			/** What the client received in each of its sessions, by session id, as the numbers sent. */
			final Map<String, List<Integer>> receivedBySession = new HashMap<>();

			@Nullable String sessionId;

			private @Nullable String token;

			/** Data messages received in the current session: what an {@code R} or {@code A} counts. */
			private long received;

			private @Nullable Connection current;

			/** Whether the current connection has had its {@code S}. */
			private boolean established;

			void connect(@Nullable String resumeToken) throws Exception {
				Connection connection = new Connection(this, "t" + (++Schedule.this.transports));
				this.current = connection;
				this.established = false;
				Schedule.this.container.afterConnectionEstablished(connection);
				String answer = (resumeToken != null)
						? ResumeWire.write(new ResumeFrame.Resume(resumeToken, this.received))
						: ResumeWire.write(new ResumeFrame.New());
				Schedule.this.container.handleMessage(connection, new TextMessage(answer));
			}

			void resume() throws Exception {
				if (this.token == null
						|| (this.current != null && !this.established && !this.current.dead && !this.current.clientGaveUp)) {
					// No session yet, or the answer to the last resume may still come.
					return;
				}
				if (this.current != null) {
					this.current.clientGaveUp = true;
				}
				connect(this.token);
			}

			void acknowledge() throws Exception {
				if (this.established && this.current != null && !this.current.dead) {
					Schedule.this.container.handleMessage(this.current,
							new TextMessage(ResumeWire.write(new ResumeFrame.Ack(this.received))));
				}
			}

			void sendData() throws Exception {
				if (this.established && this.current != null && !this.current.dead) {
					Schedule.this.container.handleMessage(this.current, new TextMessage("c" + (++Schedule.this.counter)));
				}
			}

			/** The connection dies: the container tells the handler with 1006, a moment later. */
			void loseConnection() {
				Connection connection = this.current;
				if (connection != null && !connection.dead) {
					connection.dead = true;
					Schedule.this.pool.execute(() -> connection.containerClosed(new CloseStatus(1006)));
				}
			}

			/** The client's heartbeat saw the connection die; the server has not noticed (writes still go in). */
			void giveUp() {
				if (this.current != null) {
					this.current.clientGaveUp = true;
				}
			}

			@Nullable ManagedSession session() {
				return (this.sessionId != null) ? Schedule.this.registry.find(this.sessionId).orElse(null) : null;
			}

			void written(Connection connection, String text) {
				if (connection != this.current || connection.clientGaveUp) {
					// A connection this client has left: what arrives there never reaches its application.
					return;
				}
				ResumeWire.Inbound inbound = ResumeWire.read(text);
				if (inbound instanceof ResumeWire.Inbound.Data data) {
					if (!this.established) {
						violate("data before the session answer on " + connection.id);
						return;
					}
					this.received++;
					this.receivedBySession.computeIfAbsent(this.sessionId, (id) -> new ArrayList<>())
						.add(Integer.parseInt(data.text().substring(1)));
				}
				else if (((ResumeWire.Inbound.Control) inbound).frame() instanceof ResumeFrame.Session answer) {
					if (answer.reason() == ResumeFrame.RefusalReason.REUSED) {
						violate("an honest client's resume was refused as a reuse on " + connection.id);
					}
					this.token = answer.token();
					this.established = true;
					if (!answer.recovered()) {
						// A new session: its numbering starts again; sessionId follows from the handler's open.
						this.received = 0;
					}
				}
			}

		}

		/** A container connection: records what the library writes to it, and refuses writes once dead. */
		private final class Connection extends FakeContainerSession {

			final Client client;

			final String id;

			boolean dead;

			boolean clientGaveUp;

			private boolean handlerToldClosed;

			Connection(Client client, String id) {
				super(id, URI.create("ws://localhost/chat?" + ResumeWire.QUERY_PARAMETER + "=" + ResumeWire.VERSION));
				this.client = client;
				this.id = id;
			}

			void containerClosed(CloseStatus status) {
				if (this.handlerToldClosed) {
					return;
				}
				Schedule.this.trace.add(this.id + " closed " + status.getCode());
				this.handlerToldClosed = true;
				this.dead = true;
				try {
					Schedule.this.container.afterConnectionClosed(this, status);
				}
				catch (Exception ex) {
					violate("afterConnectionClosed threw " + ex);
				}
			}

			@Override
			public void sendMessage(WebSocketMessage<?> message) throws IOException {
				underLock("a write to a connection");
				if (this.dead) {
					throw new IOException("connection closed");
				}
				if (message instanceof TextMessage text) {
					Schedule.this.trace.add("written to " + this.id + ": " + text.getPayload().replace('\u0000', '^'));
					this.client.written(this, text.getPayload());
				}
			}

			@Override
			public void close(CloseStatus status) {
				underLock("a close of a connection");
				this.dead = true;
				Schedule.this.pool.execute(() -> containerClosed(status));
			}

			@Override
			public boolean isOpen() {
				return !this.dead;
			}

		}

	}

}
