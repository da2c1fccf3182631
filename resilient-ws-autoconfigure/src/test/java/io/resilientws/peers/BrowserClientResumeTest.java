package io.resilientws.peers;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import io.resilientws.server.ManagedSession;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.SessionEvent;
import io.resilientws.testsupport.NodePeer;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The browser client ({@code resilient-ws.js} with {@code resume: true}, run in Node on the {@code ws}
 * package) against the real server with resume on, through a TCP proxy that cuts the link twice while
 * both sides send: every message arrives once, in order, in both directions ({@code resume-probe.mjs}
 * checks the client's side, this test the server's).
 */
class BrowserClientResumeTest {

	private static final int COUNT = 3_000;

	private static final Duration WAIT = Duration.ofSeconds(60);

	private final List<SessionEvent> events = new CopyOnWriteArrayList<>();

	private TestWebSocketServer server;

	private TcpProxy proxy;

	private NodePeer probe;

	@BeforeEach
	void nodeIsThere() {
		NodePeer.assumeNodeAvailable();
	}

	@AfterEach
	void stop() {
		if (this.probe != null) {
			this.probe.close();
		}
		if (this.proxy != null) {
			this.proxy.close();
		}
		if (this.server != null) {
			this.server.close();
		}
	}

	@Test
	void cutLinksLoseNothingAndRepeatNothingBetweenTheBrowserClientAndTheServer() {
		this.server = TestWebSocketServer.builder()
			.resilientWsAutoConfiguration(true)
			.property("resilient-ws.server.resume.enabled", "true")
			.start();
		ServerSessionRegistry registry = this.server.applicationContext().getBean(ServerSessionRegistry.class);
		registry.addListener(this.events::add);
		this.proxy = TcpProxy.start(this.server.port());
		this.probe = NodePeer.clientScript("resume-probe.mjs",
				"ws://127.0.0.1:" + this.proxy.port() + TestWebSocketServer.PATH, String.valueOf(COUNT));
		await().atMost(WAIT).until(() -> registry.count() == 1);
		ManagedSession session = registry.sessions().iterator().next();
		int cuts = 0;
		for (int i = 0; i < COUNT; i++) {
			assertThat(registry.send(session.getId(), text("s", i)).isAccepted()).isTrue();
			if (i == COUNT / 3 || i == 2 * COUNT / 3) {
				this.proxy.cutAll();
				int detached = ++cuts;
				await().atMost(WAIT).until(() -> count(SessionEvent.Detached.class) >= detached);
				// Back before the next cut: a cut in the middle of the reconnect would detach nothing.
				await().atMost(WAIT).until(() -> count(SessionEvent.Resumed.class) >= detached);
			}
		}
		await().atMost(WAIT).until(() -> has("done") || has("error"));
		assertThat(this.probe.output()).as("the browser client's account").noneMatch((line) -> line.startsWith("error"))
			.anyMatch((line) -> line.startsWith("done"));
		assertThat(this.probe.output()).filteredOn((line) -> line.startsWith("reconnected")).isNotEmpty()
			.allMatch((line) -> line.startsWith("reconnected true"));
		assertThat(this.server.received()).as("the browser client's texts, at the handler")
			.containsExactlyElementsOf(IntStream.range(0, COUNT).mapToObj((i) -> text("c", i)).toList());
		assertThat(registry.sessions()).containsExactly(session);
		assertThat(this.server.closeStatuses()).as("the server's handler heard of no close").isEmpty();
	}

	/** As resume-probe.mjs numbers them: one in seven starts with NUL, which the protocol escapes. */
	private static String text(String prefix, int i) {
		return ((i % 7 == 3) ? "\u0000" : "") + prefix + "-" + i;
	}

	private long count(Class<? extends SessionEvent> type) {
		return this.events.stream().filter(type::isInstance).count();
	}

	private boolean has(String prefix) {
		return this.probe.output().stream().anyMatch((line) -> line.startsWith(prefix));
	}

}
