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
import io.resilientws.testsupport.ManualTaskScheduler;
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
		for (int i = 0; i < SCHEDULES; i++) {
			new Schedule(base + i).run();
		}
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

		private final List<String> trace = new ArrayList<>();

		private ManagedConnection connection;

		private ConnectionState lastEventState = ConnectionState.CLOSED;

		/** The number of connect attempts started when the handler last saw onOpen. */
		private int attemptsWhenLastOpened;

		/** A local close or a stop was asked for, and neither start() nor reconnect() since. */
		private boolean closedLocally = true;

		private int attemptsAtLocalClose;

		private int sent;

		Schedule(long seed) {
			this.seed = seed;
			this.random = new Random(seed);
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
				.build();
			this.connection = new ManagedConnection("c", settings, new CheckingHandler(), this.scheduler,
					new HeartbeatSweep(this.scheduler), this.connector, this.pool, this::event);
			try {
				for (int step = 0; step < STEPS; step++) {
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
				SendResult result = this.connection.send("m" + (this.sent++));
				say("send -> " + (result.isAccepted() ? "accepted" : result.rejection().orElseThrow()));
				if (result.isAccepted()) {
					CompletableFuture<Void> delivery = result.delivery();
					this.deliveries.add(delivery);
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
				attempt.socket.listener.onOpen(attempt.socket);
			}
			else if (choice < 79) {
				if (attempt.socket.takeDemand()) {
					say("peer text on " + attempt.index);
					attempt.socket.listener.onText(attempt.socket, attempt.index + ":" + attempt.received++, true);
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

		private static List<String> last(List<String> list, int n) {
			return list.subList(Math.max(0, list.size() - n), list.size());
		}

		private final class CheckingHandler implements ConnectionHandler {

			@Override
			public void onOpen(ManagedConnection connection) {
				outsideLock("onOpen");
				Schedule.this.attemptsWhenLastOpened = Schedule.this.connector.attempts.size();
			}

			@Override
			public void onText(ManagedConnection connection, String text) {
				outsideLock("onText");
				int attempt = Integer.parseInt(text.substring(0, text.indexOf(':')));
				if (Schedule.this.attemptsWhenLastOpened <= attempt) {
					Schedule.this.violations.add("message '" + text + "' of attempt " + attempt
							+ " reached the handler before that attempt's onOpen");
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

			Attempt(int index, WebSocket.Listener listener) {
				this.index = index;
				this.socket = new FakeSocket(listener);
			}

		}

		/** A socket whose writes complete when the schedule says, and whose demand is counted. */
		private final class FakeSocket implements WebSocket {

			private final WebSocket.Listener listener;

			private final List<CompletableFuture<WebSocket>> writes = new ArrayList<>();

			private long demand;

			private boolean aborted;

			private boolean halfOpen;

			private int pingsUnanswered;

			FakeSocket(WebSocket.Listener listener) {
				this.listener = listener;
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
				if (ok && !this.aborted && !this.halfOpen) {
					write.complete(this);
				}
				else {
					write.completeExceptionally(new java.io.IOException("broken pipe"));
				}
				return true;
			}

			private CompletableFuture<WebSocket> write() {
				outsideLock("a transport write");
				CompletableFuture<WebSocket> write = new CompletableFuture<>();
				this.writes.add(write);
				return write;
			}

			@Override
			public CompletableFuture<WebSocket> sendText(CharSequence data, boolean last) {
				return write();
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
