package io.resilientws.client;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

import io.resilientws.ResilientWsScheduler;
import io.resilientws.send.SendFailure;
import io.resilientws.send.SendResult;
import io.resilientws.send.UndeliveredMessageException;
import io.resilientws.server.ManagedSession;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.SessionEvent;
import io.resilientws.testsupport.ResumePeer;
import io.resilientws.testsupport.ResumePeer.PeerSession;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Session resume (docs/RESUME-PROTOCOL.md) on real sockets: the client against {@link ResumePeer}
 * (the protocol's server side) or a plain server, through a {@link TcpProxy} that cuts or freezes the
 * link.
 */
class ResumeTest {

	private static final Duration WAIT = Duration.ofSeconds(30);

	private static final int MESSAGES = 2_000;

	private final ResumePeer peer = new ResumePeer();

	private TestWebSocketServer server;

	private TcpProxy proxy;

	private ResilientWsScheduler scheduler;

	private ConnectionRegistry registry;

	private final Recorder handler = new Recorder();

	private final List<ConnectionEvent> events = new CopyOnWriteArrayList<>();

	@BeforeEach
	void start() {
		this.scheduler = ResilientWsScheduler.create();
	}

	@AfterEach
	void stop() {
		if (this.registry != null) {
			this.registry.destroy();
		}
		this.scheduler.destroy();
		if (this.proxy != null) {
			this.proxy.close();
		}
		if (this.server != null) {
			this.server.close();
		}
		this.peer.close();
	}

	@Test
	void aCutLinkIsResumedWithEveryMessageOnceAndInOrderBothWays() {
		ManagedConnection connection = openThroughPeer((settings) -> settings);
		PeerSession session = this.peer.lastSession();
		Random random = new Random(13);
		List<String> toServer = new ArrayList<>();
		List<String> toClient = new ArrayList<>();
		List<SendResult> sends = new ArrayList<>();
		for (int i = 0; i < MESSAGES; i++) {
			if (i == MESSAGES / 2) {
				// Mid-stream: both directions have messages written and not yet acknowledged.
				this.proxy.cutAll();
			}
			String up = payload(random, i);
			if (i % 10 == 7) {
				sends.add(connection.send(ByteBuffer.wrap(up.getBytes(StandardCharsets.UTF_8))));
				toServer.add("binary:" + up);
			}
			else {
				sends.add(connection.send(up));
				toServer.add(up);
			}
			String down = payload(random, i);
			session.send(down);
			toClient.add(down);
		}
		assertThat(sends).allMatch(SendResult::isAccepted);
		await().atMost(WAIT).until(() -> this.handler.messages.size() >= MESSAGES && session.received().size() >= MESSAGES);
		assertThat(this.handler.messages).containsExactlyElementsOf(toClient);
		assertThat(session.received()).containsExactlyElementsOf(toServer);
		sends.forEach((send) -> assertThat(send.delivery()).succeedsWithin(WAIT));
		await().atMost(WAIT).until(() -> connection.unacknowledgedAmount() == 0);
		assertThat(this.peer.sessions()).hasSize(1);
		assertThat(this.handler.closes).extracting(CloseEvent::code).contains(1006);
		assertThat(this.handler.resumes).containsExactly(new ResumeOutcome(true, null));
		assertThat(this.handler.timeline).containsSubsequence("open", "resume:true", "open");
		assertThat(this.events).filteredOn(ConnectionEvent.Resumed.class::isInstance).hasSize(1);
		assertThat(this.peer.violations()).isEmpty();
		assertNoTokenShows(connection);
	}

	@Test
	void aFrozenLinkFoundDeadByTheHeartbeatIsResumedWithNothingLostOrRepeated() {
		ManagedConnection connection = openThroughPeer((settings) -> settings.heartbeatInterval(Duration.ofMillis(300))
			.heartbeatTimeout(Duration.ofMillis(300))
			.connectTimeout(Duration.ofSeconds(1)));
		PeerSession session = this.peer.lastSession();
		Random random = new Random(17);
		List<String> toServer = new ArrayList<>();
		List<String> toClient = new ArrayList<>();
		List<SendResult> sends = new ArrayList<>();
		for (int i = 0; i < MESSAGES; i++) {
			if (i == MESSAGES / 2) {
				this.proxy.freeze();
			}
			String up = payload(random, i);
			sends.add(connection.send(up));
			toServer.add(up);
			String down = payload(random, i);
			session.send(down);
			toClient.add(down);
		}
		await().atMost(WAIT)
			.until(() -> this.handler.closes.stream().anyMatch((close) -> close.reason().startsWith("heartbeat")));
		this.proxy.unfreeze();
		assertThat(sends).allMatch(SendResult::isAccepted);
		await().atMost(WAIT).until(() -> this.handler.messages.size() >= MESSAGES && session.received().size() >= MESSAGES);
		assertThat(this.handler.messages).containsExactlyElementsOf(toClient);
		assertThat(session.received()).containsExactlyElementsOf(toServer);
		sends.forEach((send) -> assertThat(send.delivery()).succeedsWithin(WAIT));
		assertThat(this.handler.resumes).isNotEmpty().allMatch(ResumeOutcome::recovered);
		assertThat(this.peer.violations()).isEmpty();
		assertNoTokenShows(connection);
	}

	@Test
	void aRefusedResumeTellsTheHandlerAndFailsWhatTheServerDidNotAcknowledge() {
		ManagedConnection connection = openThroughPeer((settings) -> settings);
		PeerSession first = this.peer.lastSession();
		SendResult acknowledged = connection.send("acknowledged");
		assertThat(acknowledged.delivery()).succeedsWithin(WAIT);
		this.proxy.freeze();
		List<SendResult> unacknowledged = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			unacknowledged.add(connection.send("lost-" + i));
		}
		await().atMost(WAIT).until(() -> connection.unacknowledgedAmount() > 0);
		this.peer.forgetSessions();
		this.proxy.cutAll();
		this.proxy.unfreeze();
		await().atMost(WAIT).until(() -> !this.handler.resumes.isEmpty());
		assertThat(this.handler.resumes)
			.containsExactly(ResumeOutcome.notRecovered(ResumeOutcome.Reason.UNKNOWN));
		// onResume records the outcome before its timeline entry, and onOpen is a later callback.
		await().atMost(WAIT)
			.untilAsserted(() -> assertThat(this.handler.timeline).endsWith("resume:false:UNKNOWN", "open"));
		unacknowledged.forEach((send) -> assertThat(failureOf(send)).isEqualTo(SendFailure.NOT_RECOVERED));
		assertThat(connection.statistics().undelivered(SendFailure.NOT_RECOVERED)).isEqualTo(5);
		// A new session numbers from 1 again: the server's first acknowledgement completes this one.
		SendResult after = connection.send("after");
		assertThat(after.delivery()).succeedsWithin(WAIT);
		PeerSession second = this.peer.lastSession();
		assertThat(second).isNotSameAs(first);
		assertThat(second.received()).containsExactly("after");
		assertThat(second.clientAcknowledged()).isZero();
		second.send("fresh");
		await().atMost(WAIT).until(() -> second.clientAcknowledged() == 1);
		// The client counts (and acknowledges) a message before its handler gets it on the callback queue.
		await().atMost(WAIT).untilAsserted(() -> assertThat(this.handler.messages).containsExactly("fresh"));
		assertThat(this.peer.violations()).isEmpty();
	}

	@Test
	void aServerThatIgnoresTheParameterIsUsedAsPlainWebSocketAfterTheHelloTimeout() {
		this.server = TestWebSocketServer.start();
		Duration helloTimeout = Duration.ofMillis(400);
		long started = System.nanoTime();
		ManagedConnection connection = open("ws://127.0.0.1:" + this.server.port() + "/ws?user=alice",
				(settings) -> settings.resumeEnabled(true).resumeHelloTimeout(helloTimeout));
		assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(helloTimeout);
		assertThat(this.server.handshakeUris().get(0).getQuery()).isEqualTo("user=alice&rws-resume=1");
		// Plain: no escaping either way, and a send is delivered when written.
		SendResult sent = connection.send("\u0000raw");
		assertThat(sent.delivery()).succeedsWithin(WAIT);
		await().atMost(WAIT).until(() -> this.handler.messages.contains("\u0000raw"));
		assertThat(this.server.received()).containsExactly("\u0000raw");
		assertThat(this.handler.resumes).isEmpty();
		assertThat(connection.unacknowledgedAmount()).isZero();
	}

	@Test
	void aServerThatSpeaksFirstWithSomethingElseIsPlainAtOnceAndItsMessageFollowsTheOpen() {
		this.peer.speaksProtocol(false).greeting("welcome");
		this.server = TestWebSocketServer.builder().handler(this.peer).start();
		long started = System.nanoTime();
		ManagedConnection connection = open(this.server.url(),
				(settings) -> settings.resumeEnabled(true).resumeHelloTimeout(Duration.ofMinutes(1)));
		assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
		await().atMost(WAIT).until(() -> this.handler.timeline.size() >= 2);
		assertThat(this.handler.timeline).startsWith("open", "text:welcome");
		connection.send("\u0000plain");
		await().atMost(WAIT).until(() -> this.peer.plainReceived().contains("\u0000plain"));
	}

	@Test
	void acknowledgementsFlowBothWaysAndTheUnacknowledgedBytesShrink() {
		ManagedConnection connection = openThroughPeer((settings) -> settings);
		PeerSession session = this.peer.lastSession();
		this.proxy.freeze();
		List<SendResult> sends = new ArrayList<>();
		for (int i = 0; i < 10; i++) {
			sends.add(connection.send("m" + i));
		}
		await().atMost(WAIT).until(() -> connection.unacknowledgedAmount() == 20);
		assertThat(sends).noneMatch((send) -> send.delivery().isDone());
		this.proxy.unfreeze();
		await().atMost(WAIT).until(() -> connection.unacknowledgedAmount() == 0);
		sends.forEach((send) -> assertThat(send.delivery()).succeedsWithin(WAIT));
		// 200 = 3 x 64 + 8: the last 8 are acknowledged by the 100 ms deadline.
		for (int i = 0; i < 200; i++) {
			session.send("s" + i);
		}
		await().atMost(WAIT).until(() -> session.clientAcknowledged() == 200);
		// Cumulative and grouped: at least one per 64, far fewer than one per message.
		assertThat(session.acknowledgementsReceived()).isBetween(200 / 64 + 1, 100);
		// The client counts (and acknowledges) a message before its handler gets it on the callback queue.
		await().atMost(WAIT).untilAsserted(() -> assertThat(this.handler.messages).hasSize(200));
	}

	@Test
	void withResumeOffTheUrlAndTheMessagesAreUnchanged() {
		this.server = TestWebSocketServer.builder().handler(this.peer).start();
		ManagedConnection connection = open(this.server.url() + "?user=alice", (settings) -> settings);
		assertThat(this.server.handshakeUris().get(0).getQuery()).isEqualTo("user=alice");
		assertThat(connection.settings().connectUrl()).isEqualTo(URI.create(this.server.url() + "?user=alice"));
		SendResult sent = connection.send("\u0000as is");
		assertThat(sent.delivery()).succeedsWithin(WAIT);
		await().atMost(WAIT).until(() -> this.peer.plainReceived().contains("\u0000as is"));
		assertThat(this.peer.sessions()).isEmpty();
		assertThat(this.handler.timeline).containsExactly("open");
	}

	// ---- helpers ----

	@Test
	void againstTheRealServerACutLinkLosesNothingAndRepeatsNothingEitherWay() {
		this.server = TestWebSocketServer.builder()
			.resilientWsAutoConfiguration(true)
			.property("resilient-ws.server.resume.enabled", "true")
			.start();
		ServerSessionRegistry sessions = this.server.applicationContext().getBean(ServerSessionRegistry.class);
		List<SessionEvent> serverEvents = new CopyOnWriteArrayList<>();
		sessions.addListener(serverEvents::add);
		this.proxy = TcpProxy.start(this.server.port());
		ManagedConnection connection = open("ws://127.0.0.1:" + this.proxy.port() + TestWebSocketServer.PATH,
				(settings) -> settings.resumeEnabled(true));
		await().atMost(WAIT).until(() -> sessions.count() == 1);
		ManagedSession session = sessions.sessions().iterator().next();
		Random random = new Random(21);
		List<String> toServer = new ArrayList<>();
		List<String> toClient = new ArrayList<>();
		List<SendResult> sends = new ArrayList<>();
		for (int i = 0; i < MESSAGES; i++) {
			if (i == MESSAGES / 3 || i == 2 * MESSAGES / 3) {
				this.proxy.cutAll();
			}
			// The server's handler echoes each text; the registry's own messages are told apart by prefix.
			String up = "up " + payload(random, i);
			sends.add(connection.send(up));
			toServer.add(up);
			String down = "down " + payload(random, i);
			assertThat(session.send(down).isAccepted()).isTrue();
			toClient.add(down);
		}
		await().atMost(WAIT).until(() -> this.handler.messages.size() >= 2 * MESSAGES);
		assertThat(this.server.received()).containsExactlyElementsOf(toServer);
		assertThat(this.handler.messages.stream().filter((text) -> text.startsWith("down "))).containsExactlyElementsOf(toClient);
		assertThat(this.handler.messages.stream().filter((text) -> text.startsWith("up "))).containsExactlyElementsOf(toServer);
		sends.forEach((send) -> assertThat(send.delivery()).succeedsWithin(WAIT));
		assertThat(this.handler.resumes).isNotEmpty().allMatch(ResumeOutcome::recovered);
		assertThat(serverEvents).filteredOn(SessionEvent.Resumed.class::isInstance).hasSameSizeAs(this.handler.resumes);
		assertThat(sessions.sessions()).containsExactly(session);
		assertThat(this.server.closeStatuses()).as("the server's handler heard of no close").isEmpty();
		await().atMost(WAIT).until(() -> connection.unacknowledgedAmount() == 0 && session.unacknowledgedBytes() == 0);
	}

	private ManagedConnection openThroughPeer(UnaryOperator<ConnectionSettings.Builder> customizer) {
		this.server = TestWebSocketServer.builder().handler(this.peer).start();
		this.proxy = TcpProxy.start(this.server.port());
		ManagedConnection connection = open("ws://127.0.0.1:" + this.proxy.port() + "/ws",
				(settings) -> customizer.apply(settings.resumeEnabled(true)));
		await().atMost(WAIT).until(() -> this.peer.lastSession() != null);
		return connection;
	}

	private ManagedConnection open(String url, UnaryOperator<ConnectionSettings.Builder> customizer) {
		this.registry = new ConnectionRegistry(this.scheduler.taskScheduler(), (bundle) -> {
			throw new IllegalStateException("no TLS in this test");
		}, this.events::add, ConnectionSettings::builder, Duration.ofSeconds(5));
		ConnectionSettings settings = customizer.apply(ConnectionSettings.builder()
			.url(url)
			.reconnectInitialDelay(Duration.ofMillis(100))
			.reconnectMaxDelay(Duration.ofMillis(500))
			.reconnectJitter(Duration.ZERO)
			.heartbeatInterval(Duration.ofMinutes(5))).build();
		ManagedConnection connection = this.registry.register("resuming", settings, this.handler);
		connection.start();
		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.OPEN);
		return connection;
	}

	/** Random text, about one in eight starting with NUL (one in 40 with two), some empty. */
	private static String payload(Random random, int index) {
		int kind = random.nextInt(40);
		String body = index + ":" + randomText(random, random.nextInt(120));
		if (kind == 0) {
			return "\u0000\u0000" + body;
		}
		if (kind < 5) {
			return "\u0000" + body;
		}
		if (kind == 5) {
			return "\u0000";
		}
		return body;
	}

	private static String randomText(Random random, int length) {
		String alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éü€\u0000 ";
		StringBuilder text = new StringBuilder(length);
		for (int i = 0; i < length; i++) {
			text.append(alphabet.charAt(random.nextInt(alphabet.length())));
		}
		return text.toString();
	}

	private void assertNoTokenShows(ManagedConnection connection) {
		String shown = this.events + " " + connection + " " + connection.snapshot() + " " + this.handler.closes
				+ " " + this.handler.resumes;
		assertThat(this.peer.issuedTokens()).isNotEmpty().allSatisfy((token) -> assertThat(shown).doesNotContain(token));
	}

	private static SendFailure failureOf(SendResult result) {
		await().atMost(WAIT).until(() -> result.delivery().isDone());
		Throwable failure = result.delivery().handle((ok, ex) -> ex).join();
		if (failure instanceof CompletionException) {
			failure = failure.getCause();
		}
		assertThat(failure).isInstanceOf(UndeliveredMessageException.class);
		return ((UndeliveredMessageException) failure).getFailure();
	}

	/** Records what the handler is told, and in which order. */
	static final class Recorder implements ConnectionHandler {

		final List<String> messages = new CopyOnWriteArrayList<>();

		final List<CloseEvent> closes = new CopyOnWriteArrayList<>();

		final List<ResumeOutcome> resumes = new CopyOnWriteArrayList<>();

		final List<String> timeline = new CopyOnWriteArrayList<>();

		@Override
		public void onOpen(ManagedConnection connection) {
			this.timeline.add("open");
		}

		@Override
		public void onResume(ManagedConnection connection, ResumeOutcome outcome) {
			this.resumes.add(outcome);
			this.timeline.add("resume:" + outcome.recovered()
					+ outcome.notRecoveredReason().map((reason) -> ":" + reason).orElse(""));
		}

		@Override
		public void onText(ManagedConnection connection, String text) {
			this.messages.add(text);
			if (this.timeline.size() < 10) {
				this.timeline.add("text:" + text);
			}
		}

		@Override
		public void onBinary(ManagedConnection connection, ByteBuffer data) {
			this.messages.add("binary:" + StandardCharsets.UTF_8.decode(data));
		}

		@Override
		public void onClose(ManagedConnection connection, CloseEvent event) {
			this.closes.add(event);
		}

	}

}
