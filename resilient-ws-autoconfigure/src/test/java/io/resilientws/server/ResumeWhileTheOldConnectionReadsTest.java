package io.resilientws.server;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeWire;
import io.resilientws.send.OverflowPolicy;
import io.resilientws.send.SendLimits;
import io.resilientws.testsupport.FakeContainerSession;
import io.resilientws.testsupport.ManualTaskScheduler;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.AbstractWebSocketHandler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that gives up a connection the server still reads resumes on a new one while the old
 * connection's reading thread is on its way with a data message: that message is either counted in
 * the answer {@code S} (then the client does not send it again) or not handled at all (then it does).
 * It is never handled on the old connection after an answer that did not count it, which the client's
 * resend then makes a second copy (docs/RESUME-PROTOCOL.md §4: each message once).
 * <p>
 * Real threads, on fake connections: the old connection's reading thread is held, after it found its
 * connection current and before the message is counted, where the first message after a resume tells
 * the store that the client has the newest token.
 */
class ResumeWhileTheOldConnectionReadsTest {

	private final ExecutorService pool = Executors.newSingleThreadExecutor();

	private final ManualTaskScheduler scheduler = new ManualTaskScheduler();

	private final HoldingStore store = new HoldingStore();

	private final Handler handler = new Handler();

	private final ServerSessionRegistry registry = new ServerSessionRegistry(settings(), this.scheduler, () -> {
	}, this.pool, new StoreFanout(this.store));

	private final SessionTrackingHandler container = new SessionTrackingHandler(this.handler, "/chat", this.registry);

	@AfterEach
	void stop() {
		this.pool.shutdownNow();
	}

	@Test
	void aDataMessageStillOnItsWayOnTheReplacedConnectionIsNotHandledAfterAnAnswerThatDidNotCountIt() throws Exception {
		this.registry.start();
		Connection first = new Connection("t1");
		ResumeFrame.Session opened = first.open(null, 0);
		assertThat(opened.recovered()).isFalse();

		// The client gives the first connection up and resumes on a second: its old token stays good until
		// the client sends something on the second, which tells the store it has the new one.
		Connection second = new Connection("t2");
		ResumeFrame.Session resumed = second.open(opened.token(), 0);
		assertThat(resumed.recovered()).isTrue();

		// The client sends "a" on the second connection; its reading thread finds the connection current,
		// and is held on its way to counting the message.
		CompletableFuture<Void> reading = CompletableFuture.runAsync(() -> {
			this.store.holdTokensOf(Thread.currentThread());
			second.receive(ResumeWire.escape("a"));
		});
		assertThat(this.store.held.await(10, TimeUnit.SECONDS)).as("the reading thread is held").isTrue();

		// Meanwhile the client gives the second connection up too and resumes on a third.
		Connection third = new Connection("t3");
		ResumeFrame.Session again = third.open(resumed.token(), 0);
		assertThat(again.recovered()).isTrue();
		assertThat(again.received()).as("the answer counts no message of the client's").isZero();

		// The held thread goes on; then the client, told the server has none of its messages, sends "a" again.
		this.store.release.countDown();
		reading.get(10, TimeUnit.SECONDS);
		third.receive(ResumeWire.escape("a"));

		assertThat(this.handler.received).as("what the handler got").containsExactly("a");
	}

	@Test
	void aConnectionLostWhileItsFramesAreStillReadCountsNoneOfThemOnceItDroppedOne() throws Exception {
		this.registry.start();
		Connection first = new Connection("t1");
		ResumeFrame.Session opened = first.open(null, 0);
		first.receive(ResumeWire.escape("a"));

		// The link froze: the heartbeat declares it dead and the server ends the connection. Frames the
		// container had read before are still delivered: "b" is dropped, the session is ending.
		this.scheduler.advance(Duration.ofSeconds(5));
		await().atMost(Duration.ofSeconds(10)).until(() -> first.closedWith != null);
		first.receive(ResumeWire.escape("b"));

		// The container reports the close; the session waits detached for its client. "c", read from the
		// same buffer after that, must not be counted either: "b" before it was not.
		this.container.afterConnectionClosed(first, first.closedWith);
		first.receive(ResumeWire.escape("c"));

		Connection second = new Connection("t2");
		ResumeFrame.Session resumed = second.open(opened.token(), 0);
		assertThat(resumed.recovered()).isTrue();
		assertThat(resumed.received()).as("the answer counts the client's messages before the first dropped").isEqualTo(1);
		// The client sends again what the answer did not count.
		second.receive(ResumeWire.escape("b"));
		second.receive(ResumeWire.escape("c"));

		assertThat(this.handler.received).as("what the handler got").containsExactly("a", "b", "c");
	}

	/** A small server's settings, with resume on (also used by {@link RegistryStartTest}). */
	static ServerSettings settings() {
		HeartbeatSettings heartbeat = new HeartbeatSettings(true, Duration.ofSeconds(1), Duration.ofSeconds(1), 1, true,
				HeartbeatMode.FRAME, HeartbeatSettings.DEFAULT_PING_TEXT, HeartbeatSettings.DEFAULT_PONG_TEXT);
		return new ServerSettings(heartbeat, new ServerSettings.AppHeartbeat(false, "__rws_ping__", "__rws_pong__"),
				new SendLimits(64 * 1024, OverflowPolicy.REJECT, Duration.ofSeconds(1), 0, 1),
				ServerOverflowPolicy.DROP_NEWEST, Duration.ofSeconds(2), 1013, 0, 0, 10, 0, 0, Duration.ofSeconds(10),
				List.of(), new ServerSettings.Shutdown(1001, Duration.ofMillis(500), Duration.ofSeconds(1)),
				new ServerSettings.Resume(true, Duration.ofSeconds(20), 64 * 1024, 10_000));
	}

	/** The application's handler: records the texts it handles. */
	private static final class Handler extends AbstractWebSocketHandler {

		final List<String> received = new CopyOnWriteArrayList<>();

		@Override
		protected void handleTextMessage(WebSocketSession session, TextMessage message) {
			this.received.add(message.getPayload());
		}

	}

	/** The single-instance fan-out, with a store that can hold a reading thread where it says a token is confirmed. */
	private static final class StoreFanout implements Fanout {

		private final Fanout delegate = Fanout.singleInstance();

		private final ResumeStore store;

		StoreFanout(ResumeStore store) {
			this.store = store;
		}

		@Override
		public void start(Receiver receiver) {
			this.delegate.start(receiver);
		}

		@Override
		public CompletableFuture<ClusterPublication> publish(SessionSelector selector,
				io.resilientws.send.OutboundMessage message) {
			return this.delegate.publish(selector, message);
		}

		@Override
		public void opened(ManagedSession session) {
			this.delegate.opened(session);
		}

		@Override
		public void closed(ManagedSession session) {
			this.delegate.closed(session);
		}

		@Override
		public boolean admitPrincipal(String principal, int limit) {
			return this.delegate.admitPrincipal(principal, limit);
		}

		@Override
		public void releasePrincipal(String principal) {
			this.delegate.releasePrincipal(principal);
		}

		@Override
		public ClusterView view() {
			return this.delegate.view();
		}

		@Override
		public void leave() {
			this.delegate.leave();
		}

		@Override
		public ResumeStore resumeStore() {
			return this.store;
		}

		@Override
		public void stop() {
			this.delegate.stop();
		}

	}

	/** This instance's store (nothing shared), which holds one chosen thread in {@link #tokens}. */
	private static final class HoldingStore implements ResumeStore {

		final CountDownLatch held = new CountDownLatch(1);

		final CountDownLatch release = new CountDownLatch(1);

		private volatile @Nullable Thread holding;

		void holdTokensOf(Thread thread) {
			this.holding = thread;
		}

		@Override
		public boolean shared() {
			return false;
		}

		@Override
		public void tokens(String sessionId, String token, @Nullable String unconfirmed) {
			if (Thread.currentThread() == this.holding && unconfirmed == null) {
				this.holding = null;
				this.held.countDown();
				try {
					this.release.await(10, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}
		}

	}

	/** A container connection with the resume query parameter: records what the server writes to it. */
	private final class Connection extends FakeContainerSession {

		final List<String> written = new CopyOnWriteArrayList<>();

		private volatile boolean closed;

		volatile @Nullable CloseStatus closedWith;

		Connection(String id) {
			super(id, URI.create("ws://localhost/chat?" + ResumeWire.QUERY_PARAMETER + "=" + ResumeWire.VERSION));
		}

		/** Connects, answers the greeting with N (no token) or R, and waits for the answer S. */
		ResumeFrame.Session open(@Nullable String token, long received) throws Exception {
			ResumeWhileTheOldConnectionReadsTest.this.container.afterConnectionEstablished(this);
			receive((token != null) ? ResumeWire.write(new ResumeFrame.Resume(token, received))
					: ResumeWire.write(new ResumeFrame.New()));
			await().atMost(Duration.ofSeconds(10)).until(() -> answer() != null);
			return answer();
		}

		void receive(String text) {
			try {
				ResumeWhileTheOldConnectionReadsTest.this.container.handleMessage(this, new TextMessage(text));
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
		}

		private ResumeFrame.@Nullable Session answer() {
			for (String text : this.written) {
				if (ResumeWire.read(text) instanceof ResumeWire.Inbound.Control control
						&& control.frame() instanceof ResumeFrame.Session session) {
					return session;
				}
			}
			return null;
		}

		@Override
		public void sendMessage(WebSocketMessage<?> message) throws IOException {
			if (this.closed) {
				throw new IOException("connection closed");
			}
			if (message instanceof TextMessage text) {
				this.written.add(text.getPayload());
			}
		}

		@Override
		public void close(CloseStatus status) {
			this.closedWith = status;
			this.closed = true;
		}

		@Override
		public boolean isOpen() {
			return !this.closed;
		}

	}

}
