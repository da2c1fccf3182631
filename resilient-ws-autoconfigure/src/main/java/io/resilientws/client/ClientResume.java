package io.resilientws.client;

import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

import io.resilientws.AfterUnlock;
import io.resilientws.resume.AckSchedule;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeFrame.Ack;
import io.resilientws.resume.ResumeFrame.Hello;
import io.resilientws.resume.ResumeFrame.New;
import io.resilientws.resume.ResumeFrame.Resume;
import io.resilientws.resume.ResumeFrame.Session;
import io.resilientws.resume.ResumeProtocolException;
import io.resilientws.resume.ResumeWire;
import io.resilientws.send.MessageWriter;
import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;

/**
 * The client's side of docs/RESUME-PROTOCOL.md for one {@link ManagedConnection} with
 * {@code resume.enabled}: the session that outlives its transports (its token, the count of what the
 * server sent, the acknowledgements owed) and, for each transport, the opening exchange (wait for
 * {@code H}, answer {@code N} or {@code R}, wait for {@code S}) and the reading of what follows.
 * <p>
 * It holds the connection's lock (the {@link Host}'s) while it decides, so that counting a message and
 * handing it to the handler happen for the transport that is current, or not at all (an old
 * transport's late message is not counted, so the server sends it again). Writes, acknowledgements of
 * the queue and timers are acted on after that lock, as everywhere in the connection.
 */
final class ClientResume {

	/** Close codes after which a session is kept for a resume: losses, not intentional closes (§5). */
	private static final Set<Integer> LOSS_CODES = Set.of(1001, CloseEvent.ABNORMAL_CLOSURE, 1011, 1012, 1013);

	/** The state machine, as this class sees it. Every method is called with {@link #lock()} held. */
	interface Host {

		Object lock();

		/** Whether {@code generation} is the attempt whose transport is connected now. */
		boolean isCurrent(int generation);

		/** The opening exchange is over: the connection opens. */
		void negotiated(int generation, Opening opening, AfterUnlock after);

		/** The server broke the protocol: close (reported as 1002). */
		void protocolViolated(int generation, String description, AfterUnlock after);

		/** The server said {@code H} and then did not answer the session within the hello timeout. */
		void sessionAnswerTimedOut(int generation, String description, AfterUnlock after);

	}

	/**
	 * How the connection opens.
	 * @param outcome what to tell the handler, or null (a first session, or no resume)
	 * @param start run after the lock: starts the send queue on the transport, then asks for the first
	 * frame unless {@code firstMessage} does
	 * @param firstMessage for a server that did not speak the protocol, its first message: enqueues it for
	 * the handler (after {@code onOpen}), which asks for the next frame once it has taken it; or null
	 */
	record Opening(@Nullable ResumeOutcome outcome, Runnable start, @Nullable Runnable firstMessage) {
	}

	private enum Phase {

		/** After the handshake: the server's first message decides. */
		AWAITING_HELLO,
		/** {@code N} or {@code R} sent: waiting for {@code S}. */
		AWAITING_SESSION,
		/** The session is established on this transport. */
		PROTOCOL,
		/** The server does not speak the protocol: plain WebSocket. */
		PLAIN

	}

	/** One transport's part. */
	private static final class Transport {

		final int generation;

		final WebSocket webSocket;

		Phase phase = Phase.AWAITING_HELLO;

		/** Whether the answer to {@code H} was {@code R}. */
		boolean presentedToken;

		/** Completes when the answer to {@code H} is written: the queue writes nothing before it. */
		final CompletableFuture<Void> answerWritten = new CompletableFuture<>();

		@Nullable MessageWriter writer;

		@Nullable ScheduledFuture<?> helloTimer;

		Transport(int generation, WebSocket webSocket) {
			this.generation = generation;
			this.webSocket = webSocket;
		}

	}

	private final ManagedConnection connection;

	private final ConnectionSettings settings;

	private final TaskScheduler scheduler;

	private final CallbackDispatcher callbacks;

	private final OutboundQueue outbound;

	private final ConnectionStatistics statistics;

	private final Host host;

	private final Object lock;

	// Everything below is guarded by lock.

	private @Nullable Transport transport;

	/** The token for the next resume; null while there is no session to resume. A credential: never shown. */
	private @Nullable String token;

	/**
	 * Why the last session cannot be offered to the server, when it ended while the connection went on
	 * (the next session then tells the handler it was not recovered); null otherwise.
	 */
	private ResumeOutcome.@Nullable Reason previousLost;

	/** What the server sent in this session, and when to acknowledge it. */
	private AckSchedule acks = new AckSchedule();

	private boolean ackTimerScheduled;

	ClientResume(ManagedConnection connection, TaskScheduler scheduler, CallbackDispatcher callbacks,
			OutboundQueue outbound, ConnectionStatistics statistics, Host host) {
		this.connection = connection;
		this.settings = connection.settings();
		this.scheduler = scheduler;
		this.callbacks = callbacks;
		this.outbound = outbound;
		this.statistics = statistics;
		this.host = host;
		this.lock = host.lock();
	}

	// ---- called by the state machine, under its lock ----

	/** The handshake of attempt {@code generation} succeeded: wait for the server's first message. */
	void transportOpened(int generation, WebSocket webSocket, AfterUnlock after) {
		Transport opened = new Transport(generation, webSocket);
		this.transport = opened;
		Duration timeout = this.settings.resume().helloTimeout();
		opened.helloTimer = this.scheduler.schedule(() -> helloTimedOut(generation),
				this.scheduler.getClock().instant().plus(timeout));
		after.add(() -> webSocket.request(1));
	}

	/**
	 * The transport is gone without an intentional close: the session is kept for a resume after a loss
	 * (close codes 1001, 1006, 1011, 1012, 1013), ended after any other code.
	 */
	void transportLost(int code) {
		dropTransport();
		if (this.token != null && !LOSS_CODES.contains(code)) {
			sessionLost(ResumeOutcome.Reason.SESSION_ENDED);
		}
	}

	/** The connection closed for good: the session ends, nothing is kept (the queue fails what it held). */
	void closed() {
		dropTransport();
		this.token = null;
		this.previousLost = null;
		this.acks = new AckSchedule();
	}

	/** More is unacknowledged than {@code resume.buffer-limit}: this session can no longer be resumed. */
	void bufferOverflowed() {
		if (this.token != null) {
			sessionLost(ResumeOutcome.Reason.CLIENT_OVERFLOW);
		}
	}

	private void sessionLost(ResumeOutcome.Reason reason) {
		this.token = null;
		this.previousLost = reason;
	}

	private void dropTransport() {
		Transport gone = this.transport;
		if (gone != null && gone.helloTimer != null) {
			gone.helloTimer.cancel(false);
		}
		this.transport = null;
	}

	// ---- called by the transport listener, in the order of the transport's messages ----

	void text(int generation, String text) {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			Transport current = current(generation);
			if (current != null) {
				switch (current.phase) {
					case AWAITING_HELLO -> {
						if (isHello(text)) {
							answerHello(current, after);
						}
						else {
							openPlain(current, () -> deliverText(current, text), after);
						}
					}
					case AWAITING_SESSION -> sessionAnswer(current, text, after);
					case PROTOCOL -> protocolText(current, text, after);
					case PLAIN -> deliverText(current, text);
				}
			}
		}
		after.run(this.lock);
	}

	void binary(int generation, ByteBuffer data) {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			Transport current = current(generation);
			if (current != null) {
				switch (current.phase) {
					case AWAITING_HELLO -> openPlain(current, () -> deliverBinary(current, data), after);
					case AWAITING_SESSION -> violated(current, "a binary message instead of the session answer", after);
					case PROTOCOL -> {
						try {
							ByteBuffer unescaped = ResumeWire.read(data);
							count(current, unescaped.remaining(), after);
							deliverBinary(current, unescaped);
						}
						catch (ResumeProtocolException ex) {
							violated(current, ex.getMessage(), after);
						}
					}
					case PLAIN -> deliverBinary(current, data);
				}
			}
		}
		after.run(this.lock);
	}

	// ---- the opening exchange (under lock) ----

	private static boolean isHello(String text) {
		try {
			return ResumeWire.read(text) instanceof ResumeWire.Inbound.Control control
					&& control.frame() instanceof Hello;
		}
		catch (ResumeProtocolException ex) {
			// A first message that is no valid control message is a plain server's: not ours to judge.
			return false;
		}
	}

	private void answerHello(Transport current, AfterUnlock after) {
		current.phase = Phase.AWAITING_SESSION;
		ResumeFrame answer;
		if (this.token != null) {
			current.presentedToken = true;
			answer = new Resume(this.token, this.acks.receivedForHandshake());
		}
		else {
			answer = new New();
		}
		String wire = ResumeWire.write(answer);
		WebSocket ws = current.webSocket;
		after.add(() -> {
			// Nothing else writes on this transport until the answer is written: the queue waits for it.
			ws.sendText(wire, true).whenComplete((ignored, failure) -> {
				if (failure == null) {
					current.answerWritten.complete(null);
				}
				else {
					current.answerWritten.completeExceptionally(failure);
				}
			});
			ws.request(1);
		});
	}

	private void sessionAnswer(Transport current, String text, AfterUnlock after) {
		Session session;
		try {
			if (!(ResumeWire.read(text) instanceof ResumeWire.Inbound.Control control)
					|| !(control.frame() instanceof Session answer)) {
				violated(current, "the server's answer to N or R is not S", after);
				return;
			}
			session = answer;
		}
		catch (ResumeProtocolException ex) {
			violated(current, ex.getMessage(), after);
			return;
		}
		if (session.recovered() && !current.presentedToken) {
			violated(current, "S recovers a session that was not asked for", after);
			return;
		}
		if (!session.recovered() && session.received() != 0) {
			violated(current, "S starts a new session with a count other than 0", after);
			return;
		}
		cancelHelloTimer(current);
		current.phase = Phase.PROTOCOL;
		MessageWriter writer = writer(current.webSocket);
		current.writer = writer;
		this.token = session.token();
		ResumeOutcome outcome;
		Runnable attach;
		if (session.recovered()) {
			outcome = ResumeOutcome.RECOVERED;
			long received = session.received();
			attach = () -> resumeQueue(current, writer, received);
		}
		else {
			outcome = current.presentedToken ? ResumeOutcome.notRecovered(ResumeOutcome.Reason.of(session.reason()))
					: (this.previousLost != null) ? ResumeOutcome.notRecovered(this.previousLost) : null;
			boolean lost = outcome != null;
			this.acks = new AckSchedule();
			attach = () -> this.outbound.startSession(writer, true, lost);
		}
		this.previousLost = null;
		CompletableFuture<Void> answerWritten = current.answerWritten;
		WebSocket ws = current.webSocket;
		// The queue writes only after the answer (one text write at a time), and the first frame after S is
		// read only once the queue is attached, so that every acknowledgement goes out through this transport.
		this.host.negotiated(current.generation, new Opening(outcome, () -> answerWritten.thenRun(() -> {
			attach.run();
			ws.request(1);
		}), null), after);
	}

	private void resumeQueue(Transport current, MessageWriter writer, long received) {
		try {
			this.outbound.resume(writer, received);
		}
		catch (ResumeProtocolException ex) {
			AfterUnlock after = new AfterUnlock();
			synchronized (this.lock) {
				if (current(current.generation) == current) {
					violated(current, ex.getMessage(), after);
				}
			}
			after.run(this.lock);
		}
	}

	/** The server's first message was not {@code H} (or none came): plain WebSocket on this transport. */
	private void openPlain(Transport current, @Nullable Runnable firstMessage, AfterUnlock after) {
		cancelHelloTimer(current);
		current.phase = Phase.PLAIN;
		ResumeOutcome outcome = null;
		if (this.token != null) {
			outcome = ResumeOutcome.notRecovered(ResumeOutcome.Reason.NOT_SUPPORTED);
		}
		else if (this.previousLost != null) {
			outcome = ResumeOutcome.notRecovered(this.previousLost);
		}
		this.token = null;
		this.previousLost = null;
		this.acks = new AckSchedule();
		MessageWriter writer = writer(current.webSocket);
		current.writer = writer;
		boolean lost = outcome != null;
		WebSocket ws = current.webSocket;
		this.host.negotiated(current.generation, new Opening(outcome, () -> {
			this.outbound.startSession(writer, false, lost);
			if (firstMessage == null) {
				ws.request(1);
			}
		}, firstMessage), after);
	}

	private void helloTimedOut(int generation) {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			Transport current = current(generation);
			if (current != null) {
				String waited = this.settings.resume().helloTimeout().toMillis() + " ms";
				if (current.phase == Phase.AWAITING_HELLO) {
					openPlain(current, null, after);
				}
				else if (current.phase == Phase.AWAITING_SESSION) {
					this.host.sessionAnswerTimedOut(generation, "no session answer within " + waited
							+ " (resume.hello-timeout)", after);
				}
			}
		}
		after.run(this.lock);
	}

	private static void cancelHelloTimer(Transport current) {
		if (current.helloTimer != null) {
			current.helloTimer.cancel(false);
			current.helloTimer = null;
		}
	}

	// ---- the established session (under lock) ----

	private void protocolText(Transport current, String text, AfterUnlock after) {
		ResumeWire.Inbound inbound;
		try {
			inbound = ResumeWire.read(text);
		}
		catch (ResumeProtocolException ex) {
			violated(current, ex.getMessage(), after);
			return;
		}
		if (inbound instanceof ResumeWire.Inbound.Data data) {
			count(current, OutboundMessage.utf8Length(data.text()), after);
			deliverText(current, data.text());
		}
		else if (((ResumeWire.Inbound.Control) inbound).frame() instanceof Ack ack) {
			WebSocket ws = current.webSocket;
			after.add(() -> acknowledged(current, ack.received()));
			after.add(() -> ws.request(1));
		}
		else {
			violated(current, "a control message other than A in an established session", after);
		}
	}

	private void acknowledged(Transport current, long received) {
		try {
			this.outbound.acknowledge(received);
		}
		catch (ResumeProtocolException ex) {
			AfterUnlock after = new AfterUnlock();
			synchronized (this.lock) {
				if (current(current.generation) == current) {
					violated(current, ex.getMessage(), after);
				}
			}
			after.run(this.lock);
		}
	}

	/** Counts a data message of the server, and acknowledges at the schedule's thresholds. */
	private void count(Transport current, long size, AfterUnlock after) {
		long now = System.nanoTime();
		this.acks.received((int) Math.min(Integer.MAX_VALUE, size), now);
		if (this.acks.due(now)) {
			sendAck(current, after);
		}
		else if (!this.ackTimerScheduled) {
			this.ackTimerScheduled = true;
			long delayNanos = Math.max(0, this.acks.deadlineNanos() - now);
			this.scheduler.schedule(this::ackDeadline,
					this.scheduler.getClock().instant().plus(Duration.ofNanos(delayNanos)));
		}
	}

	/** The 100 ms deadline of the oldest unacknowledged message, on the shared scheduler. */
	private void ackDeadline() {
		AfterUnlock after = new AfterUnlock();
		synchronized (this.lock) {
			this.ackTimerScheduled = false;
			Transport current = this.transport;
			if (current != null && current.phase == Phase.PROTOCOL && this.host.isCurrent(current.generation)) {
				long now = System.nanoTime();
				if (this.acks.due(now)) {
					sendAck(current, after);
				}
				else if (this.acks.deadlineNanos() != Long.MIN_VALUE) {
					this.ackTimerScheduled = true;
					this.scheduler.schedule(this::ackDeadline, this.scheduler.getClock()
						.instant()
						.plus(Duration.ofNanos(Math.max(0, this.acks.deadlineNanos() - now))));
				}
			}
		}
		after.run(this.lock);
	}

	private void sendAck(Transport current, AfterUnlock after) {
		OutboundMessage ack = OutboundMessage.control(ResumeWire.write(this.acks.take()));
		MessageWriter writer = current.writer;
		if (writer != null) {
			// Only through this transport: on the next one, R has counted at least as much.
			after.add(() -> this.outbound.offerControl(ack, writer));
		}
	}

	private void violated(Transport current, @Nullable String description, AfterUnlock after) {
		this.host.protocolViolated(current.generation, (description != null) ? description : "protocol error",
				after);
	}

	// ---- helpers ----

	private @Nullable Transport current(int generation) {
		Transport current = this.transport;
		return (current != null && current.generation == generation && this.host.isCurrent(generation)) ? current
				: null;
	}

	/** Hands a text to the handler; the next frame is asked for once it has taken it. Only enqueues. */
	private void deliverText(Transport current, String text) {
		this.statistics.countReceived(OutboundMessage.utf8Length(text));
		WebSocket ws = current.webSocket;
		this.callbacks.handlerThen((h) -> h.onText(this.connection, text), () -> ws.request(1));
	}

	private void deliverBinary(Transport current, ByteBuffer data) {
		ByteBuffer message = data.asReadOnlyBuffer();
		this.statistics.countReceived(message.remaining());
		WebSocket ws = current.webSocket;
		this.callbacks.handlerThen((h) -> h.onBinary(this.connection, message), () -> ws.request(1));
	}

	/**
	 * Writes the queue's messages as they come: the queue itself escapes a data message that starts with
	 * NUL while the session speaks the protocol (one place for the envelope, the server's too).
	 */
	private static MessageWriter writer(WebSocket ws) {
		return (message) -> message.isText() ? ws.sendText(message.text(), true) : ws.sendBinary(message.binary(), true);
	}

}
