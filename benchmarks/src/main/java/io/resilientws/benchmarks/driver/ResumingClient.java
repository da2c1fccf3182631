package io.resilientws.benchmarks.driver;

import java.net.URI;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import io.resilientws.resume.AckSchedule;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeWire;

/**
 * A minimal load client that speaks the resume protocol (docs/RESUME-PROTOCOL.md) over the JDK's
 * asynchronous {@link WebSocket}, without a thread per client: adds {@code ?rws-resume=1}, answers
 * {@code H} with {@code N} (or {@code R <token> <received>} on a reconnect), waits for {@code S},
 * escapes and unescapes data, counts the data messages it receives and acknowledges them with
 * {@code A <count>} on the library's own {@link AckSchedule} (64 messages, 64 KiB, or 100 ms after the
 * first unacknowledged one, on one timer thread shared by every client).
 * <p>
 * With {@code resume = false} it is the same client without the protocol (no parameter, no control
 * messages): the baseline load for plain Spring and for resilient-ws with resume off.
 * <p>
 * What a real client does that this one does not: it keeps no copy of its own sent messages for a
 * replay (it counts them, and what the server acknowledged), so it only resumes sessions in which it
 * did not send, or whose sends were all acknowledged; and it has no heartbeat.
 */
public final class ResumingClient {

	/** Gets each data message, unescaped, with its arrival time. */
	@FunctionalInterface
	public interface Receiver {

		void received(ResumingClient client, CharSequence text, long arrivalNanos);

	}

	/** What a set of clients share: the transports, the acknowledgement timer, the handshake limit, counters. */
	public static final class Shared implements AutoCloseable {

		final JdkClients clients;

		final ScheduledExecutorService timer;

		/** Handshakes in progress at a time, connects and reconnects alike. */
		final Semaphore handshakes;

		/** Runs reconnects, which wait for a handshake permit: one thread for every client. */
		final java.util.concurrent.ExecutorService reconnector;

		/** {@code A} messages and their payload bytes (characters; ASCII), in each direction. */
		public final LongAdder acksSent = new LongAdder();

		public final LongAdder ackBytesSent = new LongAdder();

		public final LongAdder acksReceived = new LongAdder();

		public final LongAdder ackBytesReceived = new LongAdder();

		/** Data messages and their payload characters as on the wire (after escaping), each direction. */
		public final LongAdder dataSent = new LongAdder();

		public final LongAdder dataWireCharsSent = new LongAdder();

		public final LongAdder dataReceived = new LongAdder();

		public final LongAdder dataWireCharsReceived = new LongAdder();

		/** Characters the escaping added or removed (a data message that starts with NUL). */
		public final LongAdder escapeChars = new LongAdder();

		/** Other control messages (H, N, R, S) and their characters, both directions. */
		public final LongAdder handshakeMessages = new LongAdder();

		public final LongAdder handshakeChars = new LongAdder();

		/** Connections that ended without the client ending them. */
		public final LongAdder lost = new LongAdder();

		/** Connections given up because H or S did not come within {@link #HELLO_TIMEOUT}. */
		public final LongAdder handshakeTimeouts = new LongAdder();

		/** Connect attempts that failed. */
		public final LongAdder failedAttempts = new LongAdder();

		public Shared(int httpClients, int threads, int handshakesInFlight) {
			this.clients = new JdkClients(httpClients, threads);
			AtomicInteger count = new AtomicInteger();
			this.timer = Executors.newSingleThreadScheduledExecutor((task) -> {
				Thread thread = new Thread(task, "ack-timer-" + count.incrementAndGet());
				thread.setDaemon(true);
				return thread;
			});
			this.handshakes = new Semaphore(handshakesInFlight);
			this.handshakesInFlight = handshakesInFlight;
			this.reconnector = Executors.newSingleThreadExecutor((task) -> {
				Thread thread = new Thread(task, "reconnector");
				thread.setDaemon(true);
				return thread;
			});
		}

		private final int handshakesInFlight;

		/**
		 * Holds back every new handshake (waits for those in progress) until {@link #resumeConnects()}:
		 * so that a cut of every link is over before the first client connects again.
		 */
		public void pauseConnects() {
			this.handshakes.acquireUninterruptibly(this.handshakesInFlight);
		}

		public void resumeConnects() {
			this.handshakes.release(this.handshakesInFlight);
		}

		public void resetCounters() {
			for (LongAdder adder : new LongAdder[] { this.acksSent, this.ackBytesSent, this.acksReceived,
					this.ackBytesReceived, this.dataSent, this.dataWireCharsSent, this.dataReceived,
					this.dataWireCharsReceived, this.escapeChars, this.handshakeMessages, this.handshakeChars }) {
				adder.reset();
			}
		}

		@Override
		public void close() {
			this.timer.shutdownNow();
			this.reconnector.shutdownNow();
			this.clients.close();
		}

	}

	private enum Phase {

		CONNECTING, AWAIT_HELLO, AWAIT_SESSION, OPEN, CLOSED

	}

	private static final int MAX_ATTEMPTS = 30;

	/** As the reference clients' resumeHelloTimeout: without H and then S by then, the connection is lost. */
	static final java.time.Duration HELLO_TIMEOUT = java.time.Duration.ofSeconds(5);

	static final java.time.Duration HANDSHAKE_TIMEOUT = java.time.Duration.ofSeconds(10);

	private final Shared shared;

	private final URI uri;

	private final boolean resume;

	private final Receiver receiver;

	/** Whether a lost connection is replaced at once (through the shared handshake limit). */
	private volatile boolean reconnect;

	// Guarded by this.
	private AckSchedule schedule = new AckSchedule();

	private boolean ackTimerPending;

	private WebSocket webSocket;

	private CompletableFuture<?> lastSend = CompletableFuture.completedFuture(null);

	private int generation;

	private Phase phase = Phase.CLOSED;

	private String token;

	private long sent;

	private long receivedCount;

	private long peerAcknowledged;

	private int attempts;

	/** Aborted or closed by its owner: no more connects. */
	private boolean ended;

	private CompletableFuture<Boolean> ready = new CompletableFuture<>();

	/** Sessions established (S or plain open), and how many of them went on (recovered = 1). */
	private volatile int sessions;

	private volatile int recovered;

	private volatile long lastReadyNanos;

	public ResumingClient(Shared shared, URI uri, boolean resume, Receiver receiver) {
		this.shared = shared;
		this.uri = resume ? URI.create(uri + (uri.getQuery() == null ? "?" : "&") + ResumeWire.QUERY_PARAMETER + "="
				+ ResumeWire.VERSION) : uri;
		this.resume = resume;
		this.receiver = receiver;
	}

	/**
	 * Opens a connection (the first, or after a loss); the future completes when the session is
	 * established: with {@code true} when it went on ({@code S … 1}), {@code false} for a new session or
	 * a plain connection.
	 */
	public CompletableFuture<Boolean> connect() {
		// The permit first, outside the lock: pauseConnects holds every permit while it calls lose().
		this.shared.handshakes.acquireUninterruptibly();
		synchronized (this) {
			if (this.ended) {
				this.shared.handshakes.release();
				return CompletableFuture.failedFuture(new IllegalStateException("closed"));
			}
			return open();
		}
	}

	// Under this' lock, with a handshake permit.
	private CompletableFuture<Boolean> open() {
		if (this.ready.isDone()) {
			this.ready = new CompletableFuture<>();
		}
		CompletableFuture<Boolean> result = this.ready;
		int gen = ++this.generation;
		this.phase = Phase.CONNECTING;
		this.attempts++;
		Listener listener = new Listener(gen);
		CompletableFuture<java.net.http.WebSocket> opening;
		try {
			// A handshake over a link that died silently would hold its permit for good.
			opening = this.shared.clients.open(this.uri, listener).orTimeout(HANDSHAKE_TIMEOUT.toMillis(),
					TimeUnit.MILLISECONDS);
		}
		catch (RuntimeException ex) {
			opening = CompletableFuture.failedFuture(ex);
		}
		opening.whenComplete((ws, failure) -> {
			if (failure != null) {
				this.shared.handshakes.release();
				this.shared.failedAttempts.increment();
				lost(gen, failure);
			}
			else if (!this.resume) {
				this.shared.handshakes.release();
			}
			else {
				this.shared.timer.schedule(() -> helloTimeout(gen), HELLO_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
			}
		});
		return result;
	}

	private void helloTimeout(int gen) {
		synchronized (this) {
			if (gen != this.generation || (this.phase != Phase.AWAIT_HELLO && this.phase != Phase.AWAIT_SESSION)) {
				return;
			}
		}
		this.shared.handshakeTimeouts.increment();
		lose(gen);
	}

	/** Replaces a lost connection at once (resuming if this client resumes). */
	public ResumingClient reconnectOnLoss(boolean on) {
		this.reconnect = on;
		return this;
	}

	/** Sends one application text (escaped); the JDK allows one send in progress, so sends are chained. */
	public void send(String text) {
		String wire = this.resume ? ResumeWire.escape(text) : text;
		synchronized (this) {
			this.sent++;
			write(wire);
		}
		this.shared.dataSent.increment();
		this.shared.dataWireCharsSent.add(wire.length());
		if (wire.length() != text.length()) {
			this.shared.escapeChars.add(wire.length() - text.length());
		}
	}

	// Under this' lock.
	private void write(String wire) {
		WebSocket ws = this.webSocket;
		if (ws == null) {
			return;
		}
		this.lastSend = this.lastSend.handle((r, ex) -> null).thenCompose((ignored) -> ws.sendText(wire, true));
	}

	/** Drops the connection without a close frame (the client side of a cut). */
	public void abort() {
		WebSocket ws = stopForGood();
		if (ws != null) {
			ws.abort();
		}
	}

	// No more reconnects, and later events of the current connection are stale; returns that connection,
	// or null when there is none.
	private synchronized WebSocket stopForGood() {
		this.reconnect = false;
		this.ended = true;
		releaseIfHandshaking();
		this.phase = Phase.CLOSED;
		this.generation++;
		return this.webSocket;
	}

	/**
	 * The connection is gone (as the client's network stack would report a reset): drops it without a
	 * close frame and, with {@link #reconnectOnLoss}, connects again at once. Nothing happens if the
	 * client already saw the loss of connection {@code gen} (see {@link #generation()}) and went on.
	 */
	public void lose(int gen) {
		WebSocket ws;
		synchronized (this) {
			if (this.phase == Phase.CLOSED || gen != this.generation) {
				return;
			}
			ws = this.webSocket;
		}
		if (ws != null) {
			ws.abort();
		}
		lost(gen, null);
	}

	/** Closes with 1000 (an intentional end: the server discards the session). */
	public void close() {
		WebSocket ws = stopForGood();
		if (ws != null) {
			ws.sendClose(1000, "").orTimeout(2, TimeUnit.SECONDS).whenComplete((r, ex) -> ws.abort());
		}
	}

	/** Data messages received in this session (across its connections). */
	public synchronized long received() {
		return this.receivedCount;
	}

	/** Which connection this is: one more for every connect, abort and close. */
	public synchronized int generation() {
		return this.generation;
	}

	public int sessions() {
		return this.sessions;
	}

	public int recovered() {
		return this.recovered;
	}

	/** When the last session was established (S or plain open), System.nanoTime. */
	public long lastReadyNanos() {
		return this.lastReadyNanos;
	}

	public synchronized long sent() {
		return this.sent;
	}

	public synchronized long peerAcknowledged() {
		return this.peerAcknowledged;
	}

	/** For a report on a client that did not come back: its phase, sessions, attempts and counts. */
	public synchronized String describe() {
		return this.phase + " sessions=" + this.sessions + " recovered=" + this.recovered + " attempts=" + this.attempts
				+ " generation=" + this.generation + " received=" + this.receivedCount + " ready=" + this.ready;
	}

	public synchronized boolean isOpen() {
		return this.phase == Phase.OPEN;
	}

	// Under this' lock: a resuming connection holds its handshake permit until S.
	private void releaseIfHandshaking() {
		if (this.phase == Phase.AWAIT_HELLO || this.phase == Phase.AWAIT_SESSION) {
			this.shared.handshakes.release();
		}
	}

	private void lost(int gen, Throwable cause) {
		CompletableFuture<Boolean> failed;
		boolean again;
		synchronized (this) {
			if (gen != this.generation || this.phase == Phase.CLOSED) {
				return;
			}
			releaseIfHandshaking();
			this.phase = Phase.CLOSED;
			this.webSocket = null;
			failed = this.ready;
			again = this.reconnect && this.attempts < MAX_ATTEMPTS;
		}
		this.shared.lost.increment();
		if (again) {
			// A failed attempt waits a little before the next; a lost open connection is replaced at once.
			if (cause != null && !failed.isDone()) {
				this.shared.timer.schedule(() -> this.shared.reconnector.execute(this::connect), 200,
						TimeUnit.MILLISECONDS);
			}
			else {
				this.shared.reconnector.execute(this::connect);
			}
		}
		else {
			failed.completeExceptionally((cause != null) ? cause : new IllegalStateException("connection lost"));
		}
	}

	private void established(boolean recoveredSession) {
		CompletableFuture<Boolean> done;
		synchronized (this) {
			this.phase = Phase.OPEN;
			this.attempts = 0;
			done = this.ready;
		}
		this.lastReadyNanos = System.nanoTime();
		this.sessions++;
		if (recoveredSession) {
			this.recovered++;
		}
		done.complete(recoveredSession);
	}

	private void control(int gen, WebSocket ws, String text) {
		ResumeFrame frame = ((ResumeWire.Inbound.Control) ResumeWire.read(text)).frame();
		if (frame instanceof ResumeFrame.Ack ack) {
			this.shared.acksReceived.increment();
			this.shared.ackBytesReceived.add(text.length());
			synchronized (this) {
				this.peerAcknowledged = Math.max(this.peerAcknowledged, ack.received());
			}
			return;
		}
		this.shared.handshakeMessages.increment();
		this.shared.handshakeChars.add(text.length());
		if (frame instanceof ResumeFrame.Hello) {
			String answer;
			synchronized (this) {
				if (gen != this.generation || this.phase != Phase.AWAIT_HELLO) {
					throw new IllegalStateException("H out of turn");
				}
				answer = ResumeWire.write((this.token == null) ? new ResumeFrame.New()
						: new ResumeFrame.Resume(this.token, this.schedule.receivedForHandshake()));
				this.ackTimerPending = false;
				this.phase = Phase.AWAIT_SESSION;
				write(answer);
			}
			this.shared.handshakeMessages.increment();
			this.shared.handshakeChars.add(answer.length());
		}
		else if (frame instanceof ResumeFrame.Session session) {
			synchronized (this) {
				if (gen != this.generation || this.phase != Phase.AWAIT_SESSION) {
					throw new IllegalStateException("S out of turn");
				}
				this.token = session.token();
				if (session.recovered()) {
					this.peerAcknowledged = session.received();
				}
				else {
					// A new session: counting starts again.
					this.schedule = new AckSchedule();
					this.receivedCount = 0;
					this.sent = 0;
					this.peerAcknowledged = 0;
				}
			}
			this.shared.handshakes.release();
			established(session.recovered());
		}
		else {
			throw new IllegalStateException("unexpected " + frame);
		}
	}

	private void data(int gen, CharSequence text, long arrival) {
		String ack = null;
		long delay = -1;
		synchronized (this) {
			if (gen != this.generation) {
				return;
			}
			this.receivedCount++;
			this.schedule.received(text.length(), arrival);
			if (this.schedule.due(arrival)) {
				ack = ResumeWire.write(this.schedule.take());
				write(ack);
			}
			else if (!this.ackTimerPending) {
				this.ackTimerPending = true;
				delay = Math.max(0, this.schedule.deadlineNanos() - arrival);
			}
		}
		if (ack != null) {
			this.shared.acksSent.increment();
			this.shared.ackBytesSent.add(ack.length());
		}
		if (delay >= 0) {
			this.shared.timer.schedule(() -> ackTimer(gen), delay, TimeUnit.NANOSECONDS);
		}
	}

	private void ackTimer(int gen) {
		String ack = null;
		long delay = -1;
		synchronized (this) {
			if (gen != this.generation || this.phase != Phase.OPEN) {
				return;
			}
			this.ackTimerPending = false;
			long now = System.nanoTime();
			if (this.schedule.due(now)) {
				ack = ResumeWire.write(this.schedule.take());
				write(ack);
			}
			else if (this.schedule.deadlineNanos() != Long.MIN_VALUE) {
				this.ackTimerPending = true;
				delay = Math.max(0, this.schedule.deadlineNanos() - now);
			}
		}
		if (ack != null) {
			this.shared.acksSent.increment();
			this.shared.ackBytesSent.add(ack.length());
		}
		if (delay >= 0) {
			this.shared.timer.schedule(() -> ackTimer(gen), delay, TimeUnit.NANOSECONDS);
		}
	}

	/** One connection's listener: callbacks of a connection the client gave up are ignored. */
	private final class Listener extends JdkClients.TextListener {

		private final int gen;

		Listener(int gen) {
			this.gen = gen;
		}

		@Override
		public void onOpen(WebSocket ws) {
			super.onOpen(ws);
			synchronized (ResumingClient.this) {
				if (this.gen != ResumingClient.this.generation) {
					ws.abort();
					return;
				}
				ResumingClient.this.webSocket = ws;
				ResumingClient.this.lastSend = CompletableFuture.completedFuture(null);
				ResumingClient.this.phase = ResumingClient.this.resume ? Phase.AWAIT_HELLO : Phase.OPEN;
			}
			if (!ResumingClient.this.resume) {
				established(false);
			}
		}

		@Override
		protected void received(WebSocket ws, CharSequence text, long arrival) {
			if (this.gen != ResumingClient.this.generation) {
				return;
			}
			if (ResumingClient.this.resume) {
				if (text.length() > 0 && text.charAt(0) == '\u0000') {
					if (text.length() < 2 || text.charAt(1) != '\u0000') {
						control(this.gen, ws, text.toString());
						return;
					}
					ResumingClient.this.shared.escapeChars.increment();
					ResumingClient.this.shared.dataWireCharsReceived.add(text.length());
					text = text.subSequence(1, text.length());
				}
				else {
					ResumingClient.this.shared.dataWireCharsReceived.add(text.length());
				}
				data(this.gen, text, arrival);
			}
			else {
				synchronized (ResumingClient.this) {
					ResumingClient.this.receivedCount++;
				}
				ResumingClient.this.shared.dataWireCharsReceived.add(text.length());
			}
			ResumingClient.this.shared.dataReceived.increment();
			ResumingClient.this.receiver.received(ResumingClient.this, text, arrival);
		}

		@Override
		public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
			lost(this.gen, null);
			return null;
		}

		@Override
		public void onError(WebSocket ws, Throwable error) {
			lost(this.gen, null);
		}

	}

}
