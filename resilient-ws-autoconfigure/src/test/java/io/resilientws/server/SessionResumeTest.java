package io.resilientws.server;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import io.micrometer.core.instrument.MeterRegistry;
import io.resilientws.actuate.endpoint.ServerSummary;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeFrame.RefusalReason;
import io.resilientws.send.SendResult;
import io.resilientws.testsupport.RawClient;
import io.resilientws.testsupport.ResumeProtocolClient;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Session resume on one instance (docs/RESUME-PROTOCOL.md), against the real registry on embedded
 * Tomcat, with a client written from the specification ({@link ResumeProtocolClient}) talking over
 * real sockets through a TCP proxy that cuts or freezes the link.
 */
class SessionResumeTest {

	private static final Duration WAIT = ResumeProtocolClient.WAIT;

	private final List<AutoCloseable> resources = new ArrayList<>();

	private final List<SessionEvent> events = new CopyOnWriteArrayList<>();

	private TestWebSocketServer server;

	private ServerSessionRegistry registry;

	// When the proxy cuts a link under a text write, Tomcat (11.0.22) can throw IllegalStateException
	// ("The remote endpoint was in state [OPEN] ...") out of a worker thread: the write's completion
	// (TextMessageSendHandler.onResult) finds the endpoint's state machine no longer writing. The
	// connection is dead by then and a detached session's queue has let go of that write, so nothing is
	// lost, but Awaitility fails whatever await is running when any thread throws (seen once in 60
	// runs). What each side received is what these tests assert.
	@BeforeAll
	static void tomcatMayThrowOnCutLinks() {
		Awaitility.dontCatchUncaughtExceptions();
	}

	@AfterAll
	static void awaitilityDefaults() {
		Awaitility.reset();
	}

	@AfterEach
	void closeAll() throws Exception {
		for (AutoCloseable resource : this.resources) {
			resource.close();
		}
		if (this.server != null) {
			this.server.close();
		}
	}

	@Test
	void cutLinksLoseNothingAndDuplicateNothingInEitherDirection() {
		start("resilient-ws.server.resume.enabled=true");
		TcpProxy proxy = proxy();
		ResumeProtocolClient client = client(proxyUrl(proxy));
		assertThat(client.answers.get(0).recovered()).isFalse();
		ManagedSession session = onlySession();
		List<String> toClient = payloads("s", 3000);
		List<String> toServer = payloads("c", 3000);
		int cuts = 0;
		for (int i = 0; i < toClient.size(); i++) {
			assertThat(this.registry.send(session.getId(), toClient.get(i)).isAccepted()).isTrue();
			client.send(toServer.get(i));
			if (i % 1000 == 500) {
				proxy.cutAll();
				cuts++;
				int detached = cuts;
				await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) == detached);
				ResumeFrame.Session answer = client.resume(proxyUrl(proxy));
				assertThat(answer.recovered()).as("resume after cut %d", cuts).isTrue();
			}
		}
		await().atMost(WAIT).until(() -> dataFromServer(client).size() >= toClient.size()
				&& this.server.received().size() >= toServer.size());
		assertThat(dataFromServer(client)).as("the registry's messages, at the client").isEqualTo(toClient);
		assertThat(this.server.received())
			.as(() -> "the client's messages, at the handler; around the first that differs: "
					+ aroundFirstDifference(toServer, this.server.received(), this.server.receivedWithOrigin()))
			.isEqualTo(toServer);
		await().atMost(WAIT).until(() -> echoes(client).size() >= toServer.size());
		assertThat(echoes(client)).as("the handler's echoes, at the client").isEqualTo(toServer);
		assertThat(this.registry.sessions()).containsExactly(session);
		assertThat(this.server.closeStatuses()).as("the handler heard of no close").isEmpty();
		assertThat(count(SessionEvent.Resumed.class)).isEqualTo(3);
		client.acknowledgeNow();
		await().atMost(WAIT).until(() -> session.unacknowledgedBytes() == 0);
	}

	@Test
	void aDeliveryCompletesWhenTheClientAcknowledgesIt() {
		start("resilient-ws.server.resume.enabled=true");
		ResumeProtocolClient client = client(this.server.url());
		ManagedSession session = onlySession();
		SendResult result = session.send("one");
		await().atMost(WAIT).until(() -> client.received.contains("one"));
		assertThat(result.delivery()).as("written, not acknowledged yet").isNotDone();
		assertThat(session.unacknowledgedBytes()).isEqualTo(3);
		client.acknowledgeNow();
		assertThat(result.delivery()).succeedsWithin(WAIT);
		assertThat(session.unacknowledgedBytes()).isZero();
	}

	@Test
	void aHalfOpenLinkIsReplacedByTheResumingConnection() {
		start("resilient-ws.server.resume.enabled=true");
		TcpProxy frozen = proxy();
		ResumeProtocolClient client = client(proxyUrl(frozen));
		ManagedSession session = onlySession();
		this.registry.send(session.getId(), "before");
		await().atMost(WAIT).until(() -> client.received.contains("before"));
		frozen.freeze();
		this.registry.send(session.getId(), "into the frozen link");
		client.send("also into the frozen link");
		// The client's heartbeat saw the link die; the server has not noticed yet.
		client.abandon();
		TcpProxy fresh = proxy();
		ResumeFrame.Session answer = client.resume(proxyUrl(fresh));
		assertThat(answer.recovered()).isTrue();
		this.registry.send(session.getId(), "after");
		// The handler echoes what it receives: the client's message comes back once too.
		await().atMost(WAIT).until(() -> client.received.size() >= 4);
		assertThat(client.received.subList(0, 2)).containsExactly("before", "into the frozen link");
		assertThat(client.received).containsExactlyInAnyOrder("before", "into the frozen link", "after",
				"also into the frozen link");
		await().atMost(WAIT).until(() -> this.server.received().contains("also into the frozen link"));
		assertThat(this.server.received()).containsExactly("also into the frozen link");
		assertThat(this.server.closeStatuses()).isEmpty();
		frozen.unfreeze();
		assertThat(this.registry.sessions()).containsExactly(session);
	}

	@Test
	void aResumeAfterTheWindowIsRefusedAsExpiredAndTheHandlerHearsTheLoss() {
		start("resilient-ws.server.resume.enabled=true", "resilient-ws.server.resume.window=300ms");
		TcpProxy proxy = proxy();
		ResumeProtocolClient client = client(proxyUrl(proxy));
		ManagedSession session = onlySession();
		SendResult unacknowledged = session.send("never acknowledged");
		await().atMost(WAIT).until(() -> client.received.contains("never acknowledged"));
		proxy.cutAll();
		await().atMost(WAIT).until(() -> this.server.closeStatuses().size() == 1);
		assertThat(this.server.closeStatuses().get(0).getCode()).isEqualTo(1006);
		assertThat(unacknowledged.delivery()).failsWithin(WAIT);
		ResumeFrame.Session answer = client.resume(proxyUrl(proxy));
		assertThat(answer.recovered()).isFalse();
		assertThat(answer.reason()).isEqualTo(RefusalReason.EXPIRED);
		assertThat(answer.received()).isZero();
		await().atMost(WAIT).until(() -> this.registry.count() == 1);
		assertThat(onlySession()).isNotSameAs(session);
		assertThat(this.events).anySatisfy((event) -> assertThat(event).isInstanceOfSatisfying(
				SessionEvent.ResumeRefused.class, (refused) -> assertThat(refused.reason()).isEqualTo(RefusalReason.EXPIRED)));
	}

	@Test
	void anUnknownTokenGetsANewSessionThatSaysSo() {
		start("resilient-ws.server.resume.enabled=true");
		ResumeProtocolClient first = client(this.server.url());
		first.abandon();
		await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) == 1);
		this.server.close();
		this.server = null;
		// The instance restarted without cluster mode: nothing of the session is left.
		start("resilient-ws.server.resume.enabled=true");
		ResumeFrame.Session answer = first.resume(this.server.url());
		assertThat(answer.recovered()).isFalse();
		assertThat(answer.reason()).isEqualTo(RefusalReason.UNKNOWN);
	}

	@Test
	void aTokenUsedTwiceEndsTheSessionItResumed() {
		start("resilient-ws.server.resume.enabled=true");
		TcpProxy proxy = proxy();
		ResumeProtocolClient owner = client(proxyUrl(proxy));
		String firstToken = owner.answers.get(0).token();
		proxy.cutAll();
		await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) == 1);
		assertThat(owner.resume(proxyUrl(proxy)).recovered()).isTrue();
		// Anything the owner sends after the answer shows it has the new token: the old one is done with.
		owner.send("got the new token");
		await().atMost(WAIT).until(() -> this.server.received().contains("got the new token"));
		ResumeProtocolClient thief = ResumeProtocolClient.holding(firstToken);
		this.resources.add(thief);
		ResumeFrame.Session answer = thief.resume(this.server.url());
		assertThat(answer.recovered()).isFalse();
		assertThat(answer.reason()).isEqualTo(RefusalReason.REUSED);
		await().atMost(WAIT).until(() -> owner.closeCodes.contains(1008));
		await().atMost(WAIT).until(() -> this.server.closeStatuses().size() == 1);
		assertThat(this.server.closeStatuses().get(0).getCode()).isEqualTo(1008);
	}

	@Test
	void aCountTheSessionCannotHaveBreaksTheProtocolAndLeavesTheSessionToItsOwner() {
		start("resilient-ws.server.resume.enabled=true");
		TcpProxy proxy = proxy();
		ResumeProtocolClient owner = client(proxyUrl(proxy));
		ManagedSession session = onlySession();
		session.send("one");
		await().atMost(WAIT).until(() -> owner.received.contains("one"));
		owner.acknowledgeNow();
		await().atMost(WAIT).until(() -> session.unacknowledgedBytes() == 0);
		proxy.cutAll();
		await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) == 1);
		// Says it has none of the one message it acknowledged: not the session's client.
		ResumeProtocolClient liar = ResumeProtocolClient.holding(owner.answers.get(0).token());
		this.resources.add(liar);
		liar.attemptResume(this.server.url());
		await().atMost(WAIT).until(() -> liar.closeCodes.contains(1002));
		assertThat(owner.resume(proxyUrl(proxy)).recovered()).isTrue();
		assertThat(this.registry.sessions()).containsExactly(session);
	}

	@Test
	void anotherUsersResumeIsRefusedAndTheSessionStaysItsOwners() {
		start("resilient-ws.server.resume.enabled=true");
		TcpProxy proxy = proxy();
		ResumeProtocolClient alice = client(proxyUrl(proxy) + "?user=alice");
		ManagedSession session = onlySession();
		proxy.cutAll();
		await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) == 1);
		ResumeProtocolClient mallory = ResumeProtocolClient.holding(alice.answers.get(0).token());
		this.resources.add(mallory);
		ResumeFrame.Session refused = mallory.resume(this.server.url() + "?user=mallory");
		assertThat(refused.recovered()).isFalse();
		assertThat(refused.reason()).isEqualTo(RefusalReason.PRINCIPAL);
		assertThat(alice.resume(proxyUrl(proxy) + "?user=alice").recovered()).isTrue();
		assertThat(this.registry.find(session.getId())).containsSame(session);
	}

	@Test
	void aResumeFromAForbiddenOriginIsRefusedAtTheHandshakeLikeAnyOther() {
		TestWebSocketServer.Builder builder = TestWebSocketServer.builder()
			.resilientWsAutoConfiguration(true)
			.allowedOrigins("http://chat.example")
			.property("resilient-ws.server.resume.enabled", "true");
		this.server = builder.start();
		this.registry = this.server.applicationContext().getBean(ServerSessionRegistry.class);
		this.registry.addListener(this.events::add);
		TcpProxy proxy = proxy();
		ResumeProtocolClient owner = client(proxyUrl(proxy));
		proxy.cutAll();
		await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) == 1);
		// The token travels in the first message, after the handshake: a forbidden origin never gets that far.
		assertThat(RawClient.attempt(this.server.url() + "?rws-resume=1", Map.of("Origin", "http://evil.example")))
			.failsWithin(WAIT);
		assertThat(owner.resume(proxyUrl(proxy)).recovered()).isTrue();
	}

	@Test
	void pastMaxDetachedTheSessionThatWaitedLongestEndsFirst() {
		start("resilient-ws.server.resume.enabled=true", "resilient-ws.server.resume.max-detached=1");
		TcpProxy first = proxy();
		ResumeProtocolClient early = client(proxyUrl(first));
		TcpProxy second = proxy();
		ResumeProtocolClient late = ResumeProtocolClient.open(proxyUrl(second));
		this.resources.add(late);
		await().atMost(WAIT).until(() -> this.registry.count() == 2);
		first.cutAll();
		await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) == 1);
		second.cutAll();
		await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) == 2);
		await().atMost(WAIT).until(() -> this.server.closeStatuses().size() == 1);
		assertThat(this.registry.detachedCount()).isEqualTo(1);
		assertThat(early.resume(proxyUrl(first)).reason()).isEqualTo(RefusalReason.EXPIRED);
		assertThat(late.resume(proxyUrl(second)).recovered()).isTrue();
		// Counted down by the thread that resumed it, which may still be at it when the client has its S.
		await().atMost(WAIT).until(() -> this.registry.detachedCount() == 0);
	}

	@Test
	void aClientThatDoesNotAskGetsPlainWebSocket() {
		start("resilient-ws.server.resume.enabled=true");
		RawClient plain = RawClient.connect(this.server.url());
		this.resources.add(plain);
		plain.send("\u0000not a control message, just text");
		await().atMost(WAIT).until(() -> plain.messages.size() == 1);
		assertThat(plain.messages).containsExactly("\u0000not a control message, just text");
	}

	@Test
	void aConnectionTheClientGivesUpWith3006IsALossButItsCloseWith1000IsAnEnd() {
		start("resilient-ws.server.resume.enabled=true");
		ResumeProtocolClient client = client(this.server.url());
		ManagedSession session = onlySession();
		client.closeWith(3006);
		await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) == 1);
		assertThat(client.resume(this.server.url()).recovered()).isTrue();
		assertThat(this.registry.sessions()).containsExactly(session);
		client.closeWith(1000);
		await().atMost(WAIT).until(() -> this.server.closeStatuses().size() == 1);
		assertThat(this.server.closeStatuses().get(0).getCode()).isEqualTo(1000);
		assertThat(count(SessionEvent.Detached.class)).isEqualTo(1);
	}

	@Test
	void anIntentionalCloseEndsTheSessionAtOnce() {
		start("resilient-ws.server.resume.enabled=true");
		ResumeProtocolClient client = client(this.server.url());
		client.send("close:1000");
		await().atMost(WAIT).until(() -> this.server.closeStatuses().size() == 1);
		assertThat(this.server.closeStatuses().get(0).getCode()).isEqualTo(1000);
		assertThat(count(SessionEvent.Detached.class)).isZero();
		assertThat(client.resume(this.server.url()).reason()).isEqualTo(RefusalReason.UNKNOWN);
	}

	@Test
	void resumesAreCountedAndDetachedSessionsShownWithoutTheirTokens() {
		start("resilient-ws.server.resume.enabled=true");
		MeterRegistry meters = this.server.applicationContext().getBean(MeterRegistry.class);
		TcpProxy proxy = proxy();
		ResumeProtocolClient client = client(proxyUrl(proxy));
		ManagedSession session = onlySession();
		session.send("kept for a resume");
		await().atMost(WAIT).until(() -> client.received.contains("kept for a resume"));
		proxy.cutAll();
		await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) == 1);
		ServerSummary detached = ServerSummary.of(this.registry);
		assertThat(detached.detached()).singleElement().satisfies((described) -> {
			assertThat(described.id()).isEqualTo(session.getId());
			assertThat(described.detachedUntil()).isAfter(Instant.now());
			assertThat(described.unacknowledgedBytes()).isEqualTo("kept for a resume".length());
		});
		assertThat(meters.get("resilientws.server.resume.detached.now").gauge().value()).isEqualTo(1);
		assertThat(meters.get("resilientws.server.resume.unacknowledged").gauge().value())
			.isEqualTo("kept for a resume".length());
		assertThat(client.resume(proxyUrl(proxy)).recovered()).isTrue();
		ResumeProtocolClient stranger = ResumeProtocolClient.holding("AAAAAAAAAAAAAAAAAAAAAA");
		this.resources.add(stranger);
		assertThat(stranger.resume(this.server.url()).reason()).isEqualTo(RefusalReason.UNKNOWN);
		// Counted by the thread that resumed it, which may still be at it when the client has its S.
		await().atMost(WAIT).until(() -> meters.find("resilientws.server.resumes").tag("outcome", "recovered").counter() != null);
		assertThat(meters.get("resilientws.server.resumes").tag("outcome", "recovered").counter().count()).isEqualTo(1);
		await().atMost(WAIT).until(() -> meters.find("resilientws.server.resumes").tag("outcome", "unknown").counter() != null);
		assertThat(ServerSummary.of(this.registry).detached()).isEmpty();
		String tokens = client.answers.stream().map(ResumeFrame.Session::token).reduce("", String::concat);
		assertThat(ServerSummary.of(this.registry).toString()).doesNotContain(client.answers.get(0).token());
		assertThat(meters.getMeters().toString()).doesNotContain(client.answers.get(1).token());
		assertThat(this.events.toString()).doesNotContain(client.answers.get(0).token())
			.doesNotContain(client.answers.get(1).token());
		assertThat(tokens).hasSize(44);
	}

	// ---- helpers ----

	private void start(String... properties) {
		TestWebSocketServer.Builder builder = TestWebSocketServer.builder().resilientWsAutoConfiguration(true);
		for (String property : properties) {
			String[] nameAndValue = property.split("=", 2);
			builder.property(nameAndValue[0], nameAndValue[1]);
		}
		this.server = builder.start();
		this.registry = this.server.applicationContext().getBean(ServerSessionRegistry.class);
		this.registry.addListener(this.events::add);
	}

	private TcpProxy proxy() {
		TcpProxy proxy = TcpProxy.start(this.server.port());
		this.resources.add(proxy);
		return proxy;
	}

	private static String proxyUrl(TcpProxy proxy) {
		return "ws://127.0.0.1:" + proxy.port() + TestWebSocketServer.PATH;
	}

	private ResumeProtocolClient client(String url) {
		ResumeProtocolClient client = ResumeProtocolClient.open(url);
		this.resources.add(client);
		await().atMost(WAIT).until(() -> !this.registry.sessions().isEmpty());
		return client;
	}

	private ManagedSession onlySession() {
		assertThat(this.registry.sessions()).hasSize(1);
		return this.registry.sessions().iterator().next();
	}

	private long count(Class<? extends SessionEvent> type) {
		return this.events.stream().filter(type::isInstance).count();
	}

	/** Random texts, about one in seven starting with NUL (escaped on the wire), numbered by prefix. */
	private static List<String> payloads(String prefix, int count) {
		Random random = new Random(42);
		return IntStream.range(0, count).mapToObj((i) -> {
			String body = prefix + "-" + i + "-" + Long.toString(random.nextLong(), 36);
			return (random.nextInt(7) == 0) ? "\u0000" + body : body;
		}).toList();
	}

	private static List<String> dataFromServer(ResumeProtocolClient client) {
		return client.received.stream().filter((text) -> text.startsWith("s-") || text.startsWith("\u0000s-")).toList();
	}

	private static List<String> echoes(ResumeProtocolClient client) {
		return client.received.stream().filter((text) -> text.startsWith("c-") || text.startsWith("\u0000c-")).toList();
	}


	// Seen once (issue 13): the handler's 165th message had the text of the 172nd, before any cut. Where
	// each message around such a place came from (connection, thread, time) says more the next time.
	private static List<String> aroundFirstDifference(List<String> expected, List<String> actual,
			List<String> withOrigin) {
		int first = 0;
		while (first < Math.min(expected.size(), actual.size()) && expected.get(first).equals(actual.get(first))) {
			first++;
		}
		return withOrigin.subList(Math.max(0, first - 2), Math.min(withOrigin.size(), first + 9));
	}

}
