package io.resilientws.metrics;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.resilientws.client.CloseInitiator;
import io.resilientws.client.ConnectionEvent;
import io.resilientws.client.ConnectionListener;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ResumeOutcome;
import io.resilientws.client.ConnectionSettings;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;
import io.resilientws.testsupport.ManualTaskScheduler;
import io.resilientws.testsupport.RecordingHandler;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The client meters after a scripted scenario against a real server, through a proxy that injects
 * faults, on a manual clock (so that downtimes are exact): open, traffic, a killed server, a failed
 * and a successful reconnect, a frozen link declared dead by the heartbeat, a local close, removal.
 */
class ClientConnectionMetricsTest {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(20);

	private static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(5);

	private final ManualTaskScheduler clock = new ManualTaskScheduler();

	private final RecordingHandler handler = new RecordingHandler();

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	private ConnectionRegistry registry;

	private ClientConnectionMetrics metrics;

	private TestWebSocketServer server;

	private TcpProxy proxy;

	@BeforeEach
	void start() {
		this.server = TestWebSocketServer.start();
		this.proxy = TcpProxy.start(this.server.port());
		this.registry = new ConnectionRegistry(this.clock, (bundle) -> {
			throw new IllegalStateException("no TLS in this test");
		}, (event) -> {
		}, ConnectionSettings::builder, Duration.ofSeconds(5));
		this.metrics = new ClientConnectionMetrics(this.registry);
		this.metrics.bindTo(this.meters);
	}

	@AfterEach
	void stop() {
		this.registry.destroy();
		this.proxy.close();
		this.server.close();
	}

	@Test
	void metersFollowAScriptedLifeOfAConnection() {
		ManagedConnection feed = this.registry.register("feed", ConnectionSettings.builder()
			.url("ws://127.0.0.1:" + this.proxy.port() + "/ws?token=secret-query")
			.header("Authorization", "Bearer secret-header")
			.heartbeatInterval(HEARTBEAT_INTERVAL)
			.heartbeatTimeout(HEARTBEAT_TIMEOUT)
			.reconnectInitialDelay(Duration.ofSeconds(1))
			.reconnectMultiplier(2)
			.reconnectJitter(Duration.ZERO)
			.queueWhileDisconnected(true)
			.build(), this.handler);
		feed.start();
		awaitState(feed, ConnectionState.OPEN);
		assertThat(gauge("state", "state", "open")).isEqualTo(1);
		assertThat(gauge("state", "state", "connecting")).isZero();
		assertThat(gauge("state", "state", "closed")).isZero();

		// Traffic: three echoed messages of five bytes (é is two bytes in UTF-8).
		feed.send("one11");
		feed.send("two22");
		feed.send("thré");
		await().atMost(WAIT).until(() -> this.handler.messages.size() == 3);
		assertThat(counter("messages.sent")).isEqualTo(3);
		assertThat(counter("bytes.sent")).isEqualTo(15);
		assertThat(counter("messages.received")).isEqualTo(3);
		assertThat(counter("bytes.received")).isEqualTo(15);

		// A heartbeat ping is answered over the real socket.
		this.clock.advance(HEARTBEAT_INTERVAL);
		await().atMost(WAIT).until(() -> timer("heartbeat.rtt").count() == 1);

		// The server dies: an abnormal close of an open connection; a message waits for the next open.
		this.server.stop();
		awaitState(feed, ConnectionState.WAITING_TO_RECONNECT);
		// Events reach the meters on the connection's callback queue, just after the state changed.
		await().atMost(WAIT).until(() -> closes("1006", "abnormal") == 1);
		feed.send("later");
		assertThat(gauge("buffered")).isEqualTo(5);
		assertThat(gauge("state", "state", "waiting_to_reconnect")).isEqualTo(1);

		// Attempt 2, after 1 s, fails: nothing listens behind the proxy.
		this.clock.advance(Duration.ofSeconds(1));
		await().atMost(WAIT).until(() -> reconnects("failure") == 1);
		awaitState(feed, ConnectionState.WAITING_TO_RECONNECT);
		assertThat(closes("1006", "abnormal")).as("a failed attempt is not a close").isEqualTo(1);

		// The server is back; attempt 3, 2 s later, opens: 3 s down in all, and the held message goes out.
		this.server = TestWebSocketServer.start();
		this.proxy.retarget(this.server.port());
		this.clock.advance(Duration.ofSeconds(2));
		awaitState(feed, ConnectionState.OPEN);
		await().atMost(WAIT).until(() -> reconnects("success") == 1);
		// Recorded from the same event just after the counter: wait for it too.
		await().atMost(WAIT).until(() -> timer("downtime").count() == 1);
		assertThat(timer("downtime").totalTime(TimeUnit.MILLISECONDS)).isEqualTo(3000);
		await().atMost(WAIT).until(() -> counter("messages.received") == 4);
		assertThat(counter("messages.sent")).isEqualTo(4);
		assertThat(gauge("buffered")).isZero();

		// The link freezes: the next ping is missed and the peer declared dead.
		this.proxy.freeze();
		this.clock.advance(HEARTBEAT_INTERVAL.plus(HEARTBEAT_TIMEOUT));
		awaitState(feed, ConnectionState.WAITING_TO_RECONNECT);
		await().atMost(WAIT).until(() -> counter("heartbeat.timeouts") == 1);
		await().atMost(WAIT).until(() -> closes("1006", "abnormal") == 2);
		this.proxy.unfreeze();
		this.clock.advance(Duration.ofSeconds(4));
		awaitState(feed, ConnectionState.OPEN);
		await().atMost(WAIT).until(() -> reconnects("success") == 2);
		await().atMost(WAIT).until(() -> timer("downtime").count() == 2);

		// A local close, then a send that is refused.
		feed.close(4000, "done");
		awaitState(feed, ConnectionState.CLOSED);
		await().atMost(WAIT).until(() -> closes("4000", "local") == 1);
		assertThat(feed.send("too late").isAccepted()).isFalse();
		assertThat(counter("send.rejected", "reason", "closed")).isEqualTo(1);
		assertThat(counter("send.rejected", "reason", "buffer_full")).isZero();
		assertThat(gauge("state", "state", "closed")).isEqualTo(1);
		assertThat(gauge("state", "state", "open")).isZero();

		// Every meter is named resilientws.client.*, tagged with the connection, described, and free of secrets.
		assertThat(this.meters.getMeters()).allSatisfy((meter) -> {
			Meter.Id id = meter.getId();
			assertThat(id.getName()).startsWith("resilientws.client.");
			assertThat(id.getTag("connection")).isEqualTo("feed");
			assertThat(id.getDescription()).isNotBlank();
			assertThat(id.getTags().toString()).doesNotContain("secret").doesNotContain("127.0.0.1");
			if (meter.getId().getType() != Meter.Type.TIMER) {
				assertThat(id.getBaseUnit()).isNotBlank();
			}
		});
		assertThat(this.meters.getMeters()).extracting((meter) -> meter.getId().getName())
			.contains("resilientws.client.state", "resilientws.client.reconnects", "resilientws.client.downtime",
					"resilientws.client.closes", "resilientws.client.heartbeat.timeouts",
					"resilientws.client.heartbeat.rtt", "resilientws.client.messages.sent",
					"resilientws.client.messages.received", "resilientws.client.bytes.sent",
					"resilientws.client.bytes.received", "resilientws.client.buffered",
					"resilientws.client.send.rejected");

		// Removed at runtime: its meters go too.
		this.registry.remove("feed");
		assertThat(this.meters.getMeters()).isEmpty();
	}

	@Test
	void reconnectOfAnOpenConnectionIsALocalCloseWithAClosedEvent() {
		List<ConnectionEvent> events = new CopyOnWriteArrayList<>();
		this.registry.addListener(new ConnectionListener() {
			@Override
			public void onEvent(ConnectionEvent event) {
				events.add(event);
			}
		});
		ManagedConnection feed = this.registry.register("feed",
				ConnectionSettings.builder().url(this.server.url()).heartbeatEnabled(false).build(), this.handler);
		feed.start();
		awaitState(feed, ConnectionState.OPEN);

		feed.reconnect();

		await().atMost(WAIT).until(() -> this.handler.opens.get() == 2);
		await().atMost(WAIT).until(() -> closes("1006", "local") == 1);
		assertThat(closes("1006", "abnormal")).isZero();
		assertThat(events).filteredOn(ConnectionEvent.Closed.class::isInstance)
			.singleElement()
			.satisfies((event) -> {
				ConnectionEvent.Closed closed = (ConnectionEvent.Closed) event;
				assertThat(closed.wasOpen()).isTrue();
				assertThat(closed.close().initiator()).isEqualTo(CloseInitiator.LOCAL);
				assertThat(closed.close().reason()).isEqualTo("reconnect requested");
				assertThat(closed.close().willReconnect()).isTrue();
			});
		assertThat(this.handler.closes).singleElement()
			.satisfies((close) -> assertThat(close.initiator()).isEqualTo(CloseInitiator.LOCAL));
	}

	@Test
	void connectionsRegisteredBeforeBindingGetMetersToo() {
		ConnectionRegistry early = new ConnectionRegistry(this.clock, (bundle) -> {
			throw new IllegalStateException("no TLS in this test");
		}, (event) -> {
		}, ConnectionSettings::builder, Duration.ofSeconds(5));
		try {
			early.register("early", ConnectionSettings.builder().url(this.server.url()).build(), this.handler);
			MeterRegistry registry = new SimpleMeterRegistry();
			new ClientConnectionMetrics(early).bindTo(registry);
			assertThat(registry.get("resilientws.client.state").tag("connection", "early").tag("state", "closed")
				.gauge()
				.value()).isEqualTo(1);
			early.register("late", ConnectionSettings.builder().url(this.server.url()).build(), this.handler);
			assertThat(registry.find("resilientws.client.buffered").tag("connection", "late").gauge()).isNotNull();
		}
		finally {
			early.destroy();
		}
	}

	private void awaitState(ManagedConnection connection, ConnectionState state) {
		await().atMost(WAIT).until(connection::state, state::equals);
	}

	private double gauge(String name, String... tags) {
		return this.meters.get("resilientws.client." + name).tag("connection", "feed").tags(tags).gauge().value();
	}

	/** A counter or function counter's count; 0 when there is none. */
	@Test
	void resumesAreCountedByOutcome() {
		this.registry.register("feed", ConnectionSettings.builder().url(this.server.url()).build(), this.handler);
		this.metrics.onEvent(new ConnectionEvent.Resumed("feed", Instant.now(), new ResumeOutcome(true, null)));
		this.metrics.onEvent(new ConnectionEvent.Resumed("feed", Instant.now(), new ResumeOutcome(true, null)));
		this.metrics.onEvent(new ConnectionEvent.Resumed("feed", Instant.now(),
				new ResumeOutcome(false, ResumeOutcome.Reason.EXPIRED)));
		assertThat(counter("resumes", "outcome", "recovered")).isEqualTo(2);
		assertThat(counter("resumes", "outcome", "expired")).isEqualTo(1);
	}

	private double counter(String name, String... tags) {
		Search search = this.meters.find("resilientws.client." + name).tag("connection", "feed").tags(tags);
		return search.counters().stream().mapToDouble(Counter::count).sum()
				+ search.functionCounters().stream().mapToDouble(FunctionCounter::count).sum();
	}

	private Timer timer(String name) {
		return this.meters.get("resilientws.client." + name).tag("connection", "feed").timer();
	}

	private double reconnects(String outcome) {
		return this.meters.get("resilientws.client.reconnects")
			.tag("connection", "feed")
			.tag("outcome", outcome)
			.counter()
			.count();
	}

	private double closes(String code, String initiator) {
		Counter counter = this.meters.find("resilientws.client.closes")
			.tag("connection", "feed")
			.tag("code", code)
			.tag("initiator", initiator)
			.counter();
		return (counter != null) ? counter.count() : 0;
	}

}
