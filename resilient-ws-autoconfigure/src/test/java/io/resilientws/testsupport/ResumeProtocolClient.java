package io.resilientws.testsupport;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeWire;
import org.jspecify.annotations.Nullable;

/**
 * The client side of docs/RESUME-PROTOCOL.md written from the specification alone, on the JDK's
 * WebSocket, for testing the server: it answers the greeting, numbers what it sends, keeps it until
 * acknowledged, acknowledges every {@link #ACK_EVERY} messages, and resumes when told to.
 * <p>
 * Texts only. Every write goes through one thread, one at a time, as the JDK's WebSocket requires.
 */
public final class ResumeProtocolClient implements AutoCloseable {

	/** Acknowledges after this many data messages (the specification allows up to 64). */
	static final int ACK_EVERY = 16;

	private final ExecutorService writes = Executors.newSingleThreadExecutor();

	/** Data messages received from the server, unescaped, in arrival order, over every connection. */
	public final List<String> received = new CopyOnWriteArrayList<>();

	/** Every {@code S} answer, newest last. */
	public final List<ResumeFrame.Session> answers = new CopyOnWriteArrayList<>();

	/** Close codes of this client's connections, in order. */
	public final List<Integer> closeCodes = new CopyOnWriteArrayList<>();

	// Guarded by this.
	/** Every data message ever sent, in order: message n (1-based offset) is sent.get(n - 1). */
	private final List<String> sent = new ArrayList<>();

	/** How many of ours the server has acknowledged. */
	private long acknowledged;

	/** How many of ours have been written on the current connection, counted from 1 across connections. */
	private long written;

	private long acknowledgedToServer;

	private @Nullable String token;

	private @Nullable WebSocket connection;

	/** Whether the current connection has had its {@code S}: data may go. */
	private boolean established;

	private @Nullable CompletableFuture<ResumeFrame.Session> answer;

	/**
	 * The listener of the latest connection attempt: an earlier attempt was given up, and whatever still
	 * comes on it (its answer too) is not taken.
	 */
	private @Nullable Listener attempt;

	/** Opens a new session at {@code url} (without the query parameter, which this adds). */
	public static ResumeProtocolClient open(String url) {
		ResumeProtocolClient client = new ResumeProtocolClient();
		client.connect(url, false);
		return client;
	}

	/** A client that holds someone else's token (a stolen or replayed one) and has no connection yet. */
	public static ResumeProtocolClient holding(String token) {
		ResumeProtocolClient client = new ResumeProtocolClient();
		client.token = token;
		return client;
	}

	/**
	 * Connects again at {@code url} and asks to resume; waits for the answer.
	 * @return the server's answer
	 */
	public ResumeFrame.Session resume(String url) {
		return connect(url, true);
	}

	/** Asks to resume at {@code url} without waiting: the future completes with the answer, if one comes. */
	public CompletableFuture<ResumeFrame.Session> attemptResume(String url) {
		return start(url, true);
	}

	private ResumeFrame.Session connect(String url, boolean resume) {
		return start(url, resume).orTimeout(15, TimeUnit.SECONDS).join();
	}

	private CompletableFuture<ResumeFrame.Session> start(String url, boolean resume) {
		CompletableFuture<ResumeFrame.Session> answered = new CompletableFuture<>();
		Listener listener = new Listener(resume);
		// A client resumes once it has given up its connection: nothing more goes out on that one.
		abandon();
		Listener previous;
		synchronized (this) {
			this.answer = answered;
			previous = this.attempt;
			this.attempt = listener;
		}
		// So is an earlier attempt that has had no answer yet (its caller stopped waiting and tries again).
		if (previous != null) {
			previous.giveUp();
		}
		String separator = url.contains("?") ? "&" : "?";
		HttpClient.newHttpClient()
			.newWebSocketBuilder()
			.buildAsync(URI.create(url + separator + ResumeWire.QUERY_PARAMETER + "=" + ResumeWire.VERSION), listener)
			.join();
		return answered;
	}

	/** Sends a data message now, or as soon as a connection is established. */
	public void send(String text) {
		synchronized (this) {
			this.sent.add(text);
		}
		flush();
	}

	/** Forgets the current connection without closing it, as a client does that saw its link die. */
	public synchronized void abandon() {
		WebSocket current = this.connection;
		this.connection = null;
		this.established = false;
		if (current != null) {
			current.abort();
		}
	}

	/** Closes the connection with {@code code}, as a client ending it or giving it up, and forgets it. */
	public void closeWith(int code) {
		WebSocket current;
		synchronized (this) {
			current = this.connection;
			this.connection = null;
			this.established = false;
		}
		if (current != null) {
			current.sendClose(code, "").join();
		}
	}

	/** How many of this client's messages the server has acknowledged. */
	public synchronized long acknowledged() {
		return this.acknowledged;
	}

	/** How many data messages this client has sent (accepted for sending). */
	public synchronized int sentCount() {
		return this.sent.size();
	}

	/** Acknowledges everything received so far (the specification's delay, without waiting for it). */
	public void acknowledgeNow() {
		this.writes.execute(() -> {
			WebSocket current;
			long count;
			synchronized (this) {
				current = this.established ? this.connection : null;
				count = this.received.size();
				this.acknowledgedToServer = count;
			}
			if (current != null) {
				sendQuietly(current, ResumeWire.write(new ResumeFrame.Ack(count)));
			}
		});
	}

	// A connection that broke takes nothing more; a resume settles what it missed.
	private static void sendQuietly(WebSocket webSocket, String text) {
		try {
			webSocket.sendText(text, true).get(15, TimeUnit.SECONDS);
		}
		catch (Exception ex) {
			// Nothing to do: see above.
		}
	}

	// Writes what the server does not have yet, in order, on the write thread.
	private void flush() {
		this.writes.execute(() -> {
			while (true) {
				WebSocket current;
				String next;
				synchronized (this) {
					current = this.connection;
					if (!this.established || current == null || this.written >= this.sent.size()) {
						return;
					}
					next = this.sent.get((int) this.written);
					this.written++;
				}
				try {
					current.sendText(ResumeWire.escape(next), true).get(15, TimeUnit.SECONDS);
				}
				catch (Exception ex) {
					// The connection broke; what it did not take is written again after a resume.
					current.abort();
					return;
				}
			}
		});
	}

	private void answered(WebSocket webSocket, Listener listener, ResumeFrame.Session session) {
		CompletableFuture<ResumeFrame.Session> waiting;
		synchronized (this) {
			if (listener != this.attempt) {
				// An answer on an attempt given up, after the next R went out counting what the client had
				// then: taken, it would make this connection the client's again and count its messages, which
				// the next answer's replay then brings a second time.
				webSocket.abort();
				return;
			}
			listener.answered = true;
			this.token = session.token();
			if (session.recovered()) {
				// The server has `received` of ours: the rest is written again, in order.
				this.acknowledged = session.received();
				this.written = session.received();
			}
			else {
				// A new session: numbering starts again, nothing is resent.
				this.sent.subList(0, (int) Math.min(this.sent.size(), this.written)).clear();
				this.acknowledged = 0;
				this.written = 0;
				this.received.clear();
				this.acknowledgedToServer = 0;
			}
			this.connection = webSocket;
			this.established = true;
			waiting = this.answer;
		}
		this.answers.add(session);
		if (waiting != null) {
			waiting.complete(session);
		}
		flush();
	}

	private void dataReceived(WebSocket webSocket, String text) {
		boolean ack;
		long count;
		synchronized (this) {
			if (webSocket != this.connection) {
				return;
			}
			this.received.add(text);
			count = this.received.size();
			ack = count - this.acknowledgedToServer >= ACK_EVERY;
			if (ack) {
				this.acknowledgedToServer = count;
			}
		}
		if (ack) {
			this.writes.execute(() -> sendQuietly(webSocket, ResumeWire.write(new ResumeFrame.Ack(count))));
		}
	}

	@Override
	public void close() {
		WebSocket current;
		Listener attempting;
		synchronized (this) {
			current = this.connection;
			attempting = this.attempt;
		}
		if (current != null) {
			current.abort();
		}
		if (attempting != null) {
			attempting.giveUp();
		}
		this.writes.shutdownNow();
	}

	private final class Listener implements WebSocket.Listener {

		private final boolean resume;

		private final StringBuilder text = new StringBuilder();

		private boolean greeted;

		private volatile @Nullable WebSocket webSocket;

		/** Whether this attempt's answer was taken: its connection is then the client's to abandon or close. */
		private volatile boolean answered;

		Listener(boolean resume) {
			this.resume = resume;
		}

		@Override
		public void onOpen(WebSocket webSocket) {
			this.webSocket = webSocket;
			webSocket.request(1);
		}

		/**
		 * A later attempt replaces this one: its connection is dropped unless its answer was taken (that one
		 * is the client's connection, which abandon() gave up). One not open yet drops itself at its greeting.
		 */
		void giveUp() {
			WebSocket current = this.webSocket;
			if (current != null && !this.answered) {
				current.abort();
			}
		}

		@Override
		public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
			this.text.append(data);
			if (last) {
				String message = this.text.toString();
				this.text.setLength(0);
				handle(webSocket, message);
			}
			webSocket.request(1);
			return null;
		}

		private void handle(WebSocket webSocket, String message) {
			ResumeWire.Inbound inbound = ResumeWire.read(message);
			if (!this.greeted) {
				if (!(inbound instanceof ResumeWire.Inbound.Control control
						&& control.frame() instanceof ResumeFrame.Hello)) {
					throw new IllegalStateException("The server's first message was not H");
				}
				this.greeted = true;
				String reply;
				synchronized (ResumeProtocolClient.this) {
					if (ResumeProtocolClient.this.attempt != this) {
						webSocket.abort();
						return;
					}
					reply = (this.resume && ResumeProtocolClient.this.token != null)
							? ResumeWire.write(new ResumeFrame.Resume(ResumeProtocolClient.this.token,
									ResumeProtocolClient.this.received.size()))
							: ResumeWire.write(new ResumeFrame.New());
				}
				ResumeProtocolClient.this.writes.execute(() -> sendQuietly(webSocket, reply));
				return;
			}
			if (inbound instanceof ResumeWire.Inbound.Data data) {
				dataReceived(webSocket, data.text());
			}
			else if (((ResumeWire.Inbound.Control) inbound).frame() instanceof ResumeFrame.Session session) {
				answered(webSocket, this, session);
			}
			else if (((ResumeWire.Inbound.Control) inbound).frame() instanceof ResumeFrame.Ack ack) {
				synchronized (ResumeProtocolClient.this) {
					ResumeProtocolClient.this.acknowledged = Math.max(ResumeProtocolClient.this.acknowledged,
							ack.received());
				}
			}
		}

		@Override
		public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
			ResumeProtocolClient.this.closeCodes.add(statusCode);
			return null;
		}

		@Override
		public void onError(WebSocket webSocket, Throwable error) {
			ResumeProtocolClient.this.closeCodes.add(1006);
		}

	}

	/** Waits at most this long for anything in tests that use this client. */
	public static final Duration WAIT = Duration.ofSeconds(30);

}
