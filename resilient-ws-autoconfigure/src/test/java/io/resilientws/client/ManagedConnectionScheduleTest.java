package io.resilientws.client;

import java.net.ConnectException;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import io.resilientws.heartbeat.HeartbeatSweep;
import io.resilientws.send.SendResult;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeWire;
import io.resilientws.testsupport.ManualTaskScheduler;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The client state machine under thousands of seeded random interleavings: a fake transport, a
 * manual clock and an executor that runs one queued task at a time, in an order the seed picks, drive
 * one connection through sends, local closes, reconnects, stops, remote closes with every kind of
 * code, transport errors, failed writes, half-open links and heartbeat deaths. After every step the
 * rules that the threading model promises are checked:
 * <ul>
 * <li>no handler callback, event, delivery outcome or transport call runs while the connection's lock
 * is held;</li>
 * <li>{@code onOpen} comes before every message of its attempt;</li>
 * <li>states move only along the README's table;</li>
 * <li>nothing connects after a local close or a stop (until the application asks again);</li>
 * <li>every accepted message's delivery future completes, once, by the end.</li>
 * </ul>
 * Half the schedules resume (docs/RESUME-PROTOCOL.md) against a model of the server's side: it greets,
 * answers {@code N} and {@code R}, numbers what it sends and resends what the client lacks. There, also:
 * <li>what the handler receives in one session is in the order the server sent it, each message once;</li>
 * <li>what the server receives in one session is in the order the client sent it, each message once;</li>
 * <li>a delivery that completed is one the server received.</li>
 * A failure names its seed; {@code -Dschedule.seed=N} replays that one schedule alone.
 */
class ManagedConnectionScheduleTest {

	private static final int SCHEDULES = 300;

	private static final int STEPS = 250;

	private static final int[] CLOSE_CODES = { 1000, 1001, 1002, 1003, 1006, 1008, 1011, 1012, 1013, 4000, 4001 };

	private static final Map<ConnectionState, Set<ConnectionState>> ALLOWED = Map.of(ConnectionState.CLOSED,
			EnumSet.of(ConnectionState.CONNECTING), ConnectionState.CONNECTING,
			EnumSet.of(ConnectionState.OPEN, ConnectionState.WAITING_TO_RECONNECT, ConnectionState.CLOSED),
			ConnectionState.OPEN,
			EnumSet.of(ConnectionState.CLOSING, ConnectionState.WAITING_TO_RECONNECT, ConnectionState.CLOSED,
					ConnectionState.CONNECTING),
			ConnectionState.CLOSING, EnumSet.of(ConnectionState.CLOSED), ConnectionState.WAITING_TO_RECONNECT,
			EnumSet.of(ConnectionState.CONNECTING, ConnectionState.CLOSED));

	private static final ch.qos.logback.classic.Logger CONNECTION_LOG = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
		.getLogger(ManagedConnection.class);

	private static ch.qos.logback.classic.Level logLevel;

	// Hundreds of thousands of transitions would log a line each.
	@BeforeAll
	static void quietConnectionLog() {
		logLevel = CONNECTION_LOG.getLevel();
		CONNECTION_LOG.setLevel(ch.qos.logback.classic.Level.ERROR);
	}

	@AfterAll
	static void restoreConnectionLog() {
		CONNECTION_LOG.setLevel(logLevel);
	}

	@Test
	void everyScheduleKeepsTheThreadingRules() {
		String replay = System.getProperty("schedule.seed");
		if (replay != null) {
			new Schedule(Long.parseLong(replay)).run();
			return;
		}
		long base = new Random().nextLong();
		int recovered = 0;
		int acknowledged = 0;
		for (int i = 0; i < SCHEDULES; i++) {
			Schedule schedule = new Schedule(base + i);
			schedule.run();
			recovered += schedule.recovered;
			acknowledged += schedule.acknowledged;
		}
		// Not a test of nothing: the resuming schedules resumed sessions and had messages acknowledged.
		assertThat(recovered).as("sessions recovered over all schedules").isGreaterThan(SCHEDULES / 10);
		assertThat(acknowledged).as("deliveries acknowledged in resuming schedules").isGreaterThan(SCHEDULES / 10);
	}

	/** One seeded schedule: its own connection, clock, executor and transport. */
	private static final class Schedule {

		private final long seed;

		private final Random random;

		private final ManualTaskScheduler scheduler = new ManualTaskScheduler();

		private final StepExecutor pool = new StepExecutor();

		private final FakeConnector connector = new FakeConnector();

		private final List<String> violations = new ArrayList<>();

		private final List<CompletableFuture<Void>> deliveries = new ArrayList<>();

		/** The text of each accepted message, by the index of its delivery. */
		private final List<String> deliveredTexts = new ArrayList<>();

		private final List<String> trace = new ArrayList<>();

		private ManagedConnection connection;

		private ConnectionState lastEventState = ConnectionState.CLOSED;

		/** The number of connect attempts started when the handler last saw onOpen. */
		private int attemptsWhenLastOpened;

		/** A local close or a stop was asked for, and neither start() nor reconnect() since. */
		private boolean closedLocally = true;

		private int attemptsAtLocalClose;

		private int sent;

		/** Whether this schedule resumes; then the peer is {@link #server}. */
		private final boolean resume;

		private final ResumeServerModel server = new ResumeServerModel();

		int recovered;

		int acknowledged;

		/** The number of the last server message the handler got in its current session; -1 for none. */
		private int lastReceivedByHandler = -1;

		Schedule(long seed) {
			this.seed = seed;
			this.random = new Random(seed);
			// From the seed itself: the first draw of Randoms with consecutive seeds is nearly the same.
			this.resume = Math.floorMod(seed, 2) == 0;
		}

		void run() {
			ConnectionSettings settings = ConnectionSettings.builder()
				.url("ws://localhost:1/x")
				.heartbeatInterval(Duration.ofMillis(500))
				.heartbeatTimeout(Duration.ofMillis(300))
				.heartbeatMaxMissed(1 + this.random.nextInt(2))
				.reconnectInitialDelay(Duration.ofMillis(100))
				.reconnectMaxDelay(Duration.ofMillis(800))
				.reconnectMaxAttempts(this.random.nextBoolean() ? 4 : Long.MAX_VALUE)
				.closeTimeout(Duration.ofMillis(400))
				.queueWhileDisconnected(this.random.nextBoolean())
				.sendBufferLimit(256)
				.resumeEnabled(this.resume)
				// The model greets whenever the schedule lets the peer speak, which may be after any delay:
				// the fallback to plain WebSocket for a server that never greets is ResumeTest's.
				.resumeHelloTimeout(Duration.ofHours(1))
				.build();
			this.connection = new ManagedConnection("c", settings, new CheckingHandler(), this.scheduler,
					new HeartbeatSweep(this.scheduler), this.connector, this.pool, this::event);
			try {
				// A resume needs a greeting, an answer, a loss and a reconnect first: resuming schedules run longer.
				for (int step = 0; step < (this.resume ? 3 * STEPS : STEPS); step++) {
					step();
					check();
				}
				finish();
				check();
			}
			catch (AssertionError | RuntimeException ex) {
				throw new AssertionError("Schedule with seed " + this.seed + " (replay with -Dschedule.seed="
						+ this.seed + ") failed; last steps: " + last(this.trace, 25), ex);
			}
		}

		private void step() {
			int choice = this.random.nextInt(100);
			if (this.resume && choice >= 44 && choice < 55 && this.random.nextInt(4) != 0) {
				// Fewer local closes and stops, which end a session, so that more of them get lost and resumed.
				choice = 0;
			}
			if (this.resume && this.random.nextBoolean() && protocolProgress()) {
				return;
			}
			if (choice < 30) {
				say("run task");
				this.pool.runOne(this.random);
			}
			else if (choice < 36) {
				Duration by = Duration.ofMillis(this.random.nextInt(700));
				say("advance " + by.toMillis());
				this.scheduler.advance(by);
			}
			else if (choice < 44) {
				String text = "m" + (this.sent++);
				SendResult result = this.connection.send(text);
				say("send -> " + (result.isAccepted() ? "accepted" : result.rejection().orElseThrow()));
				if (result.isAccepted()) {
					CompletableFuture<Void> delivery = result.delivery();
					this.deliveries.add(delivery);
					this.deliveredTexts.add(text);
					// allOf's own completion runs on the thread that completes the delivery itself.
					CompletableFuture.allOf(delivery).whenComplete((ignored, failure) -> outsideLock("a delivery outcome"));
				}
			}
			else if (choice < 47) {
				say("close");
				this.closedLocally = true;
				this.attemptsAtLocalClose = this.connector.attempts.size();
				if (this.random.nextBoolean()) {
					this.connection.close();
				}
				else {
					this.connection.close(4000 + this.random.nextInt(10), "bye");
				}
			}
			else if (choice < 50) {
				boolean accepted = this.connection.reconnect();
				say("reconnect -> " + accepted);
				if (accepted) {
					this.closedLocally = false;
				}
			}
			else if (choice < 53) {
				say("start");
				if (this.connection.state() == ConnectionState.CLOSED) {
					this.closedLocally = false;
				}
				this.connection.start();
			}
			else if (choice < 55) {
				say("shutdown");
				this.closedLocally = true;
				this.attemptsAtLocalClose = this.connector.attempts.size();
				this.connection.shutdown();
			}
			else {
				transportStep(choice);
			}
		}

		private void transportStep(int choice) {
			Attempt attempt = this.connector.pick(this.random);
			if (attempt == null) {
				return;
			}
			if (choice < 62) {
				say("connect " + attempt.index + " succeeds");
				attempt.future.complete(attempt.socket);
			}
			else if (choice < 66) {
				say("connect " + attempt.index + " fails");
				attempt.future.completeExceptionally(new ConnectException("refused"));
			}
			else if (choice < 70) {
				say("onOpen " + attempt.index);
				attempt.opened = true;
				attempt.socket.listener.onOpen(attempt.socket);
			}
			else if (choice < 79) {
				String text = !attempt.socket.hasDemand() ? null
						: this.resume ? this.server.nextToClient(attempt) : attempt.index + ":" + attempt.received++;
				if (text != null && attempt.socket.takeDemand()) {
					say("peer text on " + attempt.index + ": " + printable(text));
					attempt.socket.listener.onText(attempt.socket, text, true);
				}
			}
			else if (choice < 82) {
				if (attempt.socket.takeDemand()) {
					int code = CLOSE_CODES[this.random.nextInt(CLOSE_CODES.length)];
					say("peer closes " + attempt.index + " with " + code);
					attempt.socket.listener.onClose(attempt.socket, code, "");
				}
			}
			else if (choice < 84) {
				say("transport error on " + attempt.index);
				attempt.socket.listener.onError(attempt.socket, new java.io.IOException("reset"));
			}
			else if (choice < 92) {
				say("write completes on " + attempt.index);
				attempt.socket.completeWrite(true);
			}
			else if (choice < 94) {
				say("write fails on " + attempt.index);
				attempt.socket.completeWrite(false);
			}
			else if (choice < 98) {
				if (attempt.socket.pingsUnanswered > 0 && attempt.socket.takeDemand()) {
					say("pong on " + attempt.index);
					attempt.socket.pingsUnanswered--;
					attempt.socket.listener.onPong(attempt.socket, ByteBuffer.allocate(0));
				}
			}
			else {
				say("link " + attempt.index + " goes half-open");
				attempt.socket.halfOpen = true;
			}
		}

		/**
		 * In resuming schedules, half the steps move the newest connection's exchange on when they can:
		 * the server's next message if the client reads, else a pending write landing. Without it the
		 * greeting, answer, loss and resume rarely line up in a uniform random walk.
		 */
		private boolean protocolProgress() {
			if (this.connector.attempts.isEmpty()) {
				return false;
			}
			Attempt newest = this.connector.attempts.get(this.connector.attempts.size() - 1);
			if (!newest.future.isDone()) {
				say("connect " + newest.index + " succeeds");
				newest.future.complete(newest.socket);
				return true;
			}
			if (!newest.opened) {
				say("onOpen " + newest.index);
				newest.opened = true;
				newest.socket.listener.onOpen(newest.socket);
				return true;
			}
			String text = newest.socket.hasDemand() ? this.server.nextToClient(newest) : null;
			if (text != null && newest.socket.takeDemand()) {
				say("peer text on " + newest.index + ": " + printable(text));
				newest.socket.listener.onText(newest.socket, text, true);
				return true;
			}
			if (!newest.socket.writes.isEmpty()) {
				say("write completes on " + newest.index);
				newest.socket.completeWrite(true);
				return true;
			}
			return false;
		}

		/** Closes, then lets everything that is pending happen, until nothing is. */
		private void finish() {
			say("finish: close");
			this.closedLocally = true;
			this.attemptsAtLocalClose = this.connector.attempts.size();
			this.connection.close();
			for (int round = 0; round < 200 && !quiet(); round++) {
				while (this.pool.runOne(this.random)) {
					check();
				}
				for (Attempt attempt : this.connector.attempts) {
					attempt.future.completeExceptionally(new ConnectException("refused"));
					while (attempt.socket.completeWrite(false)) {
						check();
					}
				}
				this.scheduler.advance(Duration.ofMillis(500));
			}
			assertThat(this.connection.state()).as("state after close and quiescence")
				.isEqualTo(ConnectionState.CLOSED);
			for (int i = 0; i < this.deliveries.size(); i++) {
				assertThat(this.deliveries.get(i)).as("delivery future of accepted message #" + i).isDone();
			}
			if (this.resume) {
				for (int i = 0; i < this.deliveries.size(); i++) {
					if (!this.deliveries.get(i).isCompletedExceptionally()) {
						this.acknowledged++;
						assertThat(this.server.receivedEver).as("a delivered message reached the server")
							.contains(this.deliveredTexts.get(i));
					}
				}
			}
		}

		private boolean quiet() {
			return this.pool.isEmpty() && this.connection.state() == ConnectionState.CLOSED
					&& this.deliveries.stream().allMatch(CompletableFuture::isDone);
		}

		private void check() {
			if (!this.violations.isEmpty()) {
				fail(String.join("; ", this.violations));
			}
			if (this.closedLocally) {
				assertThat(this.connector.attempts.size()).as("connect attempts after a local close or stop")
					.isEqualTo(this.attemptsAtLocalClose);
			}
		}

		private void outsideLock(String what) {
			if (this.connection.lockHeldByCurrentThread()) {
				this.violations.add(what + " ran under the connection lock");
			}
		}

		private void event(ConnectionEvent event) {
			outsideLock("event " + event.getClass().getSimpleName());
			if (event instanceof ConnectionEvent.StateChanged change) {
				if (change.from() != this.lastEventState) {
					this.violations.add("state event " + change.from() + " -> " + change.to() + " after "
							+ this.lastEventState);
				}
				if (!ALLOWED.get(change.from()).contains(change.to())) {
					this.violations.add("transition " + change.from() + " -> " + change.to() + " is not in the table");
				}
				this.lastEventState = change.to();
			}
		}

		private void say(String step) {
			this.trace.add(step + " [" + this.connection.state() + "]");
		}

		private static String printable(String text) {
			return text.replace('\u0000', '^');
		}

		private static List<String> last(List<String> list, int n) {
			return list.subList(Math.max(0, list.size() - n), list.size());
		}

		/**
		 * The server's side of the resume protocol, as a model: sessions by token, what each sent (numbered
		 * from 1) and how many it received. It greets each connection first, answers N and R once they land,
		 * resends from the client's count, and checks that the client's messages come in order, once.
		 */
		private final class ResumeServerModel {

			final class Session {

				final List<String> sent = new ArrayList<>();

				int received;

				int acknowledged;

				/** The connection the session goes on over; messages are numbered on this one only. */
				@Nullable Attempt current;

				/** The number of the client's last message received in this session. */
				int lastFromClient = -1;

			}

			private final Map<String, Session> byToken = new java.util.HashMap<>();

			/** Every client message the server received, in any session. */
			final Set<String> receivedEver = new java.util.HashSet<>();

			private int counter;

			private int tokens;

			/** What the server sends next on this connection: its greeting, an answer, a resend or new data. */
			@Nullable String nextToClient(Attempt attempt) {
				if (!attempt.greeted) {
					attempt.greeted = true;
					return ResumeWire.write(new ResumeFrame.Hello());
				}
				if (!attempt.pendingToClient.isEmpty()) {
					return attempt.pendingToClient.pollFirst();
				}
				Session session = attempt.session;
				if (session == null || session.current != attempt) {
					// Not answered yet, or the session went on over a newer connection: nothing new goes here.
					return null;
				}
				if (session.received > session.acknowledged && Schedule.this.random.nextInt(3) == 0) {
					session.acknowledged = session.received;
					return ResumeWire.write(new ResumeFrame.Ack(session.received));
				}
				String text = attempt.index + ":" + (this.counter++);
				attempt.session.sent.add(text);
				return ResumeWire.escape(text);
			}

			void fromClient(Attempt attempt, String text) {
				ResumeWire.Inbound inbound = ResumeWire.read(text);
				if (inbound instanceof ResumeWire.Inbound.Data data) {
					Session session = attempt.session;
					if (session == null) {
						Schedule.this.violations.add("data '" + data.text() + "' before the session was answered");
						return;
					}
					if (session.current != attempt) {
						// A late write on a connection the session has left: the server drops it, the
						// client wrote it again on the newer one.
						return;
					}
					int number = Integer.parseInt(data.text().substring(1));
					if (number <= session.lastFromClient) {
						Schedule.this.violations.add("client message " + number + " reached the server after "
								+ session.lastFromClient + " in one session");
					}
					session.lastFromClient = number;
					session.received++;
					this.receivedEver.add(data.text());
					return;
				}
				ResumeFrame frame = ((ResumeWire.Inbound.Control) inbound).frame();
				if (frame instanceof ResumeFrame.New) {
					answer(attempt, new Session(), false, 0);
				}
				else if (frame instanceof ResumeFrame.Resume resume) {
					Session session = this.byToken.remove(resume.token());
					if (session == null || resume.received() > session.sent.size()) {
						answer(attempt, new Session(), false, 0);
					}
					else {
						answer(attempt, session, true, resume.received());
					}
				}
			}

			private void answer(Attempt attempt, Session session, boolean recovered, long clientReceived) {
				String token = String.format("%022d", ++this.tokens);
				this.byToken.put(token, session);
				attempt.session = session;
				session.current = attempt;
				// The answer counts what the server has: it acknowledges all of it.
				session.acknowledged = session.received;
				attempt.pendingToClient.addLast(ResumeWire.write(new ResumeFrame.Session(token, session.received,
						recovered, recovered ? null : ResumeFrame.RefusalReason.UNKNOWN)));
				for (int i = (int) clientReceived; i < session.sent.size(); i++) {
					attempt.pendingToClient.addLast(ResumeWire.escape(session.sent.get(i)));
				}
			}

		}

		private final class CheckingHandler implements ConnectionHandler {

			@Override
			public void onOpen(ManagedConnection connection) {
				outsideLock("onOpen");
				Schedule.this.attemptsWhenLastOpened = Schedule.this.connector.attempts.size();
			}

			@Override
			public void onResume(ManagedConnection connection, ResumeOutcome outcome) {
				outsideLock("onResume");
				if (!outcome.recovered()) {
					Schedule.this.lastReceivedByHandler = -1;
				}
				else {
					Schedule.this.recovered++;
				}
			}

			@Override
			public void onText(ManagedConnection connection, String text) {
				outsideLock("onText");
				int attempt = Integer.parseInt(text.substring(0, text.indexOf(':')));
				if (!Schedule.this.resume && Schedule.this.attemptsWhenLastOpened <= attempt) {
					Schedule.this.violations.add("message '" + text + "' of attempt " + attempt
							+ " reached the handler before that attempt's onOpen");
				}
				if (Schedule.this.resume) {
					int number = Integer.parseInt(text.substring(text.indexOf(':') + 1));
					if (number <= Schedule.this.lastReceivedByHandler) {
						Schedule.this.violations.add("server message " + number + " reached the handler after "
								+ Schedule.this.lastReceivedByHandler + " in one session");
					}
					Schedule.this.lastReceivedByHandler = number;
				}
			}

			@Override
			public void onClose(ManagedConnection connection, CloseEvent event) {
				outsideLock("onClose");
			}

			@Override
			public void onError(ManagedConnection connection, Throwable error) {
				outsideLock("onError");
			}

		}

		/** Connect attempts, each with its future and fake socket, checked to start outside the lock. */
		private final class FakeConnector implements Connector {

			private final List<Attempt> attempts = new ArrayList<>();

			@Override
			public CompletableFuture<WebSocket> connect(ConnectionSettings settings, WebSocket.Listener listener) {
				outsideLock("connect");
				Attempt attempt = new Attempt(this.attempts.size(), listener);
				this.attempts.add(attempt);
				return attempt.future;
			}

			/** Mostly the newest attempt, now and then an older (stale) one. */
			Attempt pick(Random random) {
				if (this.attempts.isEmpty()) {
					return null;
				}
				int newest = this.attempts.size() - 1;
				return this.attempts.get((random.nextInt(5) == 0) ? random.nextInt(newest + 1) : newest);
			}

		}

		private final class Attempt {

			private final int index;

			private final CompletableFuture<WebSocket> future = new CompletableFuture<>();

			private final FakeSocket socket;

			private int received;

			/** Whether the JDK's onOpen was called for this connection. */
			private boolean opened;

			/** Server model: whether this connection was greeted, and the session it carries once answered. */
			private boolean greeted;

			private ResumeServerModel.@Nullable Session session;

			/** Server model: control messages and resends waiting to go to the client, before new data. */
			private final java.util.ArrayDeque<String> pendingToClient = new java.util.ArrayDeque<>();

			Attempt(int index, WebSocket.Listener listener) {
				this.index = index;
				this.socket = new FakeSocket(listener);
				this.socket.attempt = this;
			}

		}

		/** A socket whose writes complete when the schedule says, and whose demand is counted. */
		private final class FakeSocket implements WebSocket {

			private final WebSocket.Listener listener;

			private final List<CompletableFuture<WebSocket>> writes = new ArrayList<>();

			/** The text of each pending write (null for binary and close), read by the server when it lands. */
			private final List<String> writtenTexts = new ArrayList<>();

			/** The attempt this socket belongs to. */
			private Attempt attempt;

			private long demand;

			private boolean aborted;

			private boolean halfOpen;

			private int pingsUnanswered;

			FakeSocket(WebSocket.Listener listener) {
				this.listener = listener;
			}

			boolean hasDemand() {
				return !this.aborted && !this.halfOpen && this.demand > 0;
			}

			boolean takeDemand() {
				if (this.aborted || this.halfOpen || this.demand == 0) {
					return false;
				}
				this.demand--;
				return true;
			}

			/** Completes the oldest pending write; false if there is none. */
			boolean completeWrite(boolean ok) {
				if (this.writes.isEmpty()) {
					return false;
				}
				CompletableFuture<WebSocket> write = this.writes.remove(0);
				String text = this.writtenTexts.remove(0);
				if (ok && !this.aborted && !this.halfOpen) {
					if (Schedule.this.resume && text != null) {
						Schedule.this.server.fromClient(this.attempt, text);
					}
					write.complete(this);
				}
				else {
					write.completeExceptionally(new java.io.IOException("broken pipe"));
				}
				return true;
			}

			private CompletableFuture<WebSocket> write(@Nullable String text) {
				outsideLock("a transport write");
				CompletableFuture<WebSocket> write = new CompletableFuture<>();
				this.writes.add(write);
				this.writtenTexts.add(text);
				return write;
			}

			private CompletableFuture<WebSocket> write() {
				return write(null);
			}

			@Override
			public CompletableFuture<WebSocket> sendText(CharSequence data, boolean last) {
				return write(data.toString());
			}

			@Override
			public CompletableFuture<WebSocket> sendBinary(ByteBuffer data, boolean last) {
				return write();
			}

			@Override
			public CompletableFuture<WebSocket> sendPing(ByteBuffer message) {
				outsideLock("sendPing");
				this.pingsUnanswered++;
				return CompletableFuture.completedFuture(this);
			}

			@Override
			public CompletableFuture<WebSocket> sendPong(ByteBuffer message) {
				return CompletableFuture.completedFuture(this);
			}

			@Override
			public CompletableFuture<WebSocket> sendClose(int statusCode, String reason) {
				return write();
			}

			@Override
			public void request(long n) {
				outsideLock("request");
				this.demand += n;
			}

			@Override
			public String getSubprotocol() {
				return "";
			}

			@Override
			public boolean isOutputClosed() {
				return this.aborted;
			}

			@Override
			public boolean isInputClosed() {
				return this.aborted;
			}

			@Override
			public void abort() {
				outsideLock("abort");
				this.aborted = true;
			}

		}

	}

	/** The I/O pool: tasks wait until the schedule runs one, picked at random. */
	private static final class StepExecutor implements Executor {

		private final List<Runnable> tasks = new ArrayList<>();

		@Override
		public void execute(Runnable task) {
			this.tasks.add(task);
		}

		boolean runOne(Random random) {
			if (this.tasks.isEmpty()) {
				return false;
			}
			this.tasks.remove(random.nextInt(this.tasks.size())).run();
			return true;
		}

		boolean isEmpty() {
			return this.tasks.isEmpty();
		}

	}

}
