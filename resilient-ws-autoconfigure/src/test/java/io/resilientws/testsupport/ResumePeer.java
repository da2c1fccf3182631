package io.resilientws.testsupport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.resilientws.resume.AckSchedule;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeFrame.Ack;
import io.resilientws.resume.ResumeFrame.New;
import io.resilientws.resume.ResumeFrame.RefusalReason;
import io.resilientws.resume.ResumeFrame.Resume;
import io.resilientws.resume.ResumeFrame.Session;
import io.resilientws.resume.ResumeProtocolException;
import io.resilientws.resume.ResumeWire;
import org.jspecify.annotations.Nullable;

import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.AbstractWebSocketHandler;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The server side of docs/RESUME-PROTOCOL.md, small enough to read in one go, for testing the Java
 * client before the real server side exists: {@code H} to a client that asks with {@code rws-resume=1},
 * sessions by token ({@code N}, {@code R}, {@code S}, rotated on every {@code S}), numbering of what it
 * sends, {@code A} both ways at the {@link AckSchedule}'s thresholds, replay from the client's count,
 * and refusals ({@link #forgetSessions()} makes every known token unknown). With
 * {@link #speaksProtocol(boolean) speaksProtocol(false)} it is a plain server that ignores the
 * parameter (and may greet first).
 * <p>
 * Map it with {@link TestWebSocketServer.Builder#handler}. Each transport gets its own writer thread,
 * so that a write stuck on a frozen link holds up nothing but that transport. Detached sessions are
 * kept for as long as the peer lives (no window).
 */
public final class ResumePeer extends AbstractWebSocketHandler implements AutoCloseable {

	private final SecureRandom random = new SecureRandom();

	private final Map<String, PeerSession> byToken = new ConcurrentHashMap<>();

	private final Map<String, Transport> transports = new ConcurrentHashMap<>();

	private final List<PeerSession> sessions = new CopyOnWriteArrayList<>();

	private final List<String> issuedTokens = new CopyOnWriteArrayList<>();

	private final List<String> plainReceived = new CopyOnWriteArrayList<>();

	private final List<String> violations = new CopyOnWriteArrayList<>();

	/** The 100 ms deadline of the acknowledgements, checked often. */
	private final ScheduledExecutorService ackTicker = Executors.newSingleThreadScheduledExecutor((task) -> {
		Thread thread = new Thread(task, "resume-peer-acks");
		thread.setDaemon(true);
		return thread;
	});

	private volatile boolean speaks = true;

	private volatile @Nullable String greeting;

	public ResumePeer() {
		this.ackTicker.scheduleWithFixedDelay(this::acknowledgeDue, 20, 20, TimeUnit.MILLISECONDS);
	}

	/** Whether the peer answers {@code rws-resume=1} with the protocol (default) or ignores it. */
	public ResumePeer speaksProtocol(boolean speaks) {
		this.speaks = speaks;
		return this;
	}

	/** As a plain server: the message it sends first on every connection. */
	public ResumePeer greeting(@Nullable String greeting) {
		this.greeting = greeting;
		return this;
	}

	/** Every token known so far becomes unknown: the next {@code R} is refused ({@code unknown}). */
	public void forgetSessions() {
		this.byToken.clear();
	}

	/** The session created last (sessions resumed stay the same object). */
	public @Nullable PeerSession lastSession() {
		return this.sessions.isEmpty() ? null : this.sessions.get(this.sessions.size() - 1);
	}

	public List<PeerSession> sessions() {
		return List.copyOf(this.sessions);
	}

	/** Every token the peer gave out, to check that none shows anywhere. */
	public List<String> issuedTokens() {
		return List.copyOf(this.issuedTokens);
	}

	/** What connections that did not speak the protocol received, as sent (binary as {@code binary:<utf-8>}). */
	public List<String> plainReceived() {
		return List.copyOf(this.plainReceived);
	}

	/** Protocol errors the peer found in what the client sent; a correct client causes none. */
	public List<String> violations() {
		return List.copyOf(this.violations);
	}

	@Override
	public void close() {
		this.ackTicker.shutdownNow();
	}

	// ---- the WebSocket handler ----

	@Override
	public void afterConnectionEstablished(WebSocketSession ws) throws IOException {
		Transport transport = new Transport(ws);
		this.transports.put(ws.getId(), transport);
		String asked = (ws.getUri() != null) ? UriComponentsBuilder.fromUri(ws.getUri())
			.build()
			.getQueryParams()
			.getFirst(ResumeWire.QUERY_PARAMETER) : null;
		if (this.speaks && ResumeWire.VERSION.equals(asked)) {
			ws.sendMessage(new TextMessage(ResumeWire.write(new ResumeFrame.Hello())));
		}
		else {
			transport.plain = true;
			String hello = this.greeting;
			if (hello != null) {
				ws.sendMessage(new TextMessage(hello));
			}
		}
	}

	@Override
	protected void handleTextMessage(WebSocketSession ws, TextMessage message) {
		Transport transport = this.transports.get(ws.getId());
		if (transport == null) {
			return;
		}
		String text = message.getPayload();
		if (transport.plain) {
			this.plainReceived.add(text);
			return;
		}
		try {
			ResumeWire.Inbound inbound = ResumeWire.read(text);
			PeerSession session = transport.session;
			if (session == null) {
				opening(transport, inbound);
			}
			else if (inbound instanceof ResumeWire.Inbound.Data data) {
				session.received(transport, data.text(), data.text().getBytes(StandardCharsets.UTF_8).length);
			}
			else if (((ResumeWire.Inbound.Control) inbound).frame() instanceof Ack ack) {
				session.acknowledged(transport, ack.received());
			}
			else {
				throw new IllegalStateException("a control message other than A in an established session");
			}
		}
		catch (ResumeProtocolException | IllegalStateException ex) {
			violation(transport, ex.getMessage());
		}
	}

	@Override
	protected void handleBinaryMessage(WebSocketSession ws, BinaryMessage message) {
		Transport transport = this.transports.get(ws.getId());
		if (transport == null) {
			return;
		}
		if (transport.plain) {
			this.plainReceived.add("binary:" + StandardCharsets.UTF_8.decode(message.getPayload()));
			return;
		}
		try {
			PeerSession session = transport.session;
			if (session == null) {
				throw new IllegalStateException("binary data before the session");
			}
			ByteBuffer data = ResumeWire.read(message.getPayload());
			int size = data.remaining();
			session.received(transport, "binary:" + StandardCharsets.UTF_8.decode(data), size);
		}
		catch (ResumeProtocolException | IllegalStateException ex) {
			violation(transport, ex.getMessage());
		}
	}

	@Override
	public void afterConnectionClosed(WebSocketSession ws, CloseStatus status) {
		Transport transport = this.transports.remove(ws.getId());
		if (transport != null) {
			transport.closed();
		}
	}

	private void opening(Transport transport, ResumeWire.Inbound inbound) {
		ResumeFrame frame = (inbound instanceof ResumeWire.Inbound.Control control) ? control.frame() : null;
		if (frame instanceof New) {
			PeerSession session = newSession();
			session.attach(transport, 0, new Session(session.token, 0, false, null));
		}
		else if (frame instanceof Resume resume) {
			PeerSession known = this.byToken.remove(resume.token());
			if (known == null) {
				PeerSession session = newSession();
				session.attach(transport, 0, new Session(session.token, 0, false, RefusalReason.UNKNOWN));
				return;
			}
			known.token = issueToken();
			this.byToken.put(known.token, known);
			known.resume(transport, resume.received());
		}
		else {
			throw new IllegalStateException("the answer to H is neither N nor R");
		}
	}

	private PeerSession newSession() {
		PeerSession session = new PeerSession(issueToken());
		this.byToken.put(session.token, session);
		this.sessions.add(session);
		return session;
	}

	private String issueToken() {
		String token = ResumeWire.newToken(this.random);
		this.issuedTokens.add(token);
		return token;
	}

	private void violation(Transport transport, @Nullable String description) {
		this.violations.add(String.valueOf(description));
		closeLater(transport.ws, CloseStatus.PROTOCOL_ERROR);
	}

	private void acknowledgeDue() {
		long now = System.nanoTime();
		for (PeerSession session : this.sessions) {
			session.acknowledgeIfDue(now);
		}
	}

	private static void closeLater(WebSocketSession ws, CloseStatus status) {
		// Off the calling thread: a close on a frozen link may block.
		Thread closer = new Thread(() -> {
			try {
				ws.close(status);
			}
			catch (IOException | RuntimeException ex) {
				// Gone already.
			}
		}, "resume-peer-close");
		closer.setDaemon(true);
		closer.start();
	}

	/** One logical session: what the server's application sent (numbered), what it received. */
	public static final class PeerSession {

		private final Object lock = new Object();

		// Guarded by lock.

		private volatile String token;

		/** Everything the application sent, oldest first: offset = index + 1. */
		private final List<String> sent = new ArrayList<>();

		/** How many of {@link #sent} the client has acknowledged. */
		private long clientAcknowledged;

		private int acknowledgementsReceived;

		private final List<String> received = new ArrayList<>();

		private final AckSchedule acks = new AckSchedule();

		private @Nullable Transport transport;

		PeerSession(String token) {
			this.token = token;
		}

		/** Sends a data message to the client, now or after a resume. */
		public void send(String text) {
			synchronized (this.lock) {
				this.sent.add(text);
				this.lock.notifyAll();
			}
		}

		/** The client's data messages, in the order received, each once. */
		public List<String> received() {
			synchronized (this.lock) {
				return List.copyOf(this.received);
			}
		}

		public long clientAcknowledged() {
			synchronized (this.lock) {
				return this.clientAcknowledged;
			}
		}

		/** How many {@code A} messages the client sent. */
		public int acknowledgementsReceived() {
			synchronized (this.lock) {
				return this.acknowledgementsReceived;
			}
		}

		void attach(Transport transport, long clientReceived, Session answer) {
			attach(transport, clientReceived, () -> answer);
		}

		// The answer is made under the lock that also moves the session to the new transport: a message
		// that arrives on the old one after this is not counted, one before is in the answer's count.
		private void attach(Transport transport, long clientReceived, java.util.function.Supplier<Session> answer) {
			Transport previous;
			synchronized (this.lock) {
				previous = this.transport;
				this.transport = transport;
				transport.session = this;
				transport.next = clientReceived + 1;
				transport.controls.add(ResumeWire.write(answer.get()));
				this.lock.notifyAll();
			}
			if (previous != null) {
				closeLater(previous.ws, CloseStatus.GOING_AWAY);
			}
			transport.startWriter();
		}

		void resume(Transport transport, long clientReceived) {
			synchronized (this.lock) {
				if (clientReceived < this.clientAcknowledged || clientReceived > this.sent.size()) {
					throw new IllegalStateException("R counts messages the session cannot have");
				}
				this.clientAcknowledged = clientReceived;
			}
			attach(transport, clientReceived, () -> new Session(this.token, this.acks.receivedForHandshake(), true, null));
		}

		void received(Transport from, String text, int size) {
			synchronized (this.lock) {
				if (this.transport != from) {
					return;
				}
				this.received.add(text);
				long now = System.nanoTime();
				this.acks.received(size, now);
				if (this.acks.due(now)) {
					from.controls.add(ResumeWire.write(this.acks.take()));
					this.lock.notifyAll();
				}
			}
		}

		void acknowledged(Transport from, long count) {
			synchronized (this.lock) {
				if (this.transport != from) {
					return;
				}
				if (count < this.clientAcknowledged || count > from.next - 1) {
					throw new IllegalStateException("A counts messages never sent, or fewer than before");
				}
				this.clientAcknowledged = count;
				this.acknowledgementsReceived++;
			}
		}

		void acknowledgeIfDue(long now) {
			synchronized (this.lock) {
				Transport current = this.transport;
				if (current != null && this.acks.due(now)) {
					current.controls.add(ResumeWire.write(this.acks.take()));
					this.lock.notifyAll();
				}
			}
		}

		void detach(Transport transport) {
			synchronized (this.lock) {
				if (this.transport == transport) {
					this.transport = null;
				}
				this.lock.notifyAll();
			}
		}

		// The writer of one transport: control messages first, then what the client has not had, in order.
		void write(Transport transport) {
			while (true) {
				String next;
				synchronized (this.lock) {
					while (true) {
						if (transport.isClosed() || this.transport != transport) {
							return;
						}
						if (!transport.controls.isEmpty()) {
							next = transport.controls.poll();
							break;
						}
						if (transport.next <= this.sent.size()) {
							next = ResumeWire.escape(this.sent.get((int) (transport.next - 1)));
							transport.next++;
							break;
						}
						try {
							this.lock.wait();
						}
						catch (InterruptedException ex) {
							return;
						}
					}
				}
				try {
					transport.ws.sendMessage(new TextMessage(next));
				}
				catch (IOException | RuntimeException ex) {
					return;
				}
			}
		}

	}

	/** One WebSocket connection. */
	static final class Transport {

		final WebSocketSession ws;

		volatile boolean plain;

		volatile @Nullable PeerSession session;

		/** The next offset to write on this transport; guarded by the session's lock. */
		long next;

		/** Guarded by the session's lock. */
		final ArrayDeque<String> controls = new ArrayDeque<>();

		private volatile boolean closed;

		Transport(WebSocketSession ws) {
			this.ws = ws;
		}

		boolean isClosed() {
			return this.closed;
		}

		void startWriter() {
			PeerSession owner = this.session;
			Thread writer = new Thread(() -> owner.write(this), "resume-peer-writer");
			writer.setDaemon(true);
			writer.start();
		}

		void closed() {
			this.closed = true;
			PeerSession owner = this.session;
			if (owner != null) {
				owner.detach(this);
			}
		}

	}

}
