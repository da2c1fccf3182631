package io.resilientws.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

import io.resilientws.ResilientWsScheduler;
import io.resilientws.send.OverflowPolicy;
import io.resilientws.send.SendFailure;
import io.resilientws.send.SendResult;
import io.resilientws.send.UndeliveredMessageException;
import io.resilientws.testsupport.ManualTaskScheduler;
import io.resilientws.testsupport.RecordingHandler;
import io.resilientws.testsupport.TcpProxy;
import io.resilientws.testsupport.TestWebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.scheduling.TaskScheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The send path over a real link to a real server. A frozen proxy makes the peer stop reading: the
 * kernel buffers fill, writes stop completing, and the connection's own buffer limit takes over.
 */
class SendPathTest {

	private static final Duration WAIT = Duration.ofSeconds(20);

	private static final int LIMIT = 256 * 1024;

	private static final String CHUNK = "x".repeat(32 * 1024);

	private TestWebSocketServer server;

	private TcpProxy proxy;

	private ResilientWsScheduler realScheduler;

	private ConnectionRegistry registry;

	private final RecordingHandler handler = new RecordingHandler();

	@BeforeEach
	void startServer() {
		this.server = TestWebSocketServer.start();
		this.proxy = TcpProxy.start(this.server.port());
		this.realScheduler = ResilientWsScheduler.create();
	}

	@AfterEach
	void stopAll() {
		if (this.registry != null) {
			this.registry.destroy();
		}
		this.realScheduler.destroy();
		this.proxy.close();
		this.server.close();
	}

	@Test
	void rejectRefusesBeyondTheLimitAndDeliversEverythingAcceptedOnceTheLinkMoves() {
		ManagedConnection connection = open(OverflowPolicy.REJECT, UnaryOperator.identity());
		this.proxy.freeze();
		List<SendResult> accepted = new ArrayList<>();
		SendResult refused = fillUntilRefused(connection, accepted);
		assertThat(refused.rejection()).contains(SendFailure.BUFFER_FULL);
		assertThat(failureOf(refused)).isEqualTo(SendFailure.BUFFER_FULL);
		assertThat(connection.bufferedAmount()).isLessThanOrEqualTo(LIMIT);
		this.proxy.unfreeze();
		accepted.forEach((result) -> assertThat(result.delivery()).succeedsWithin(WAIT));
		await().atMost(WAIT).until(() -> this.server.received().size() == accepted.size());
	}

	@Test
	void dropOldestEvictsQueuedMessagesAndTellsTheirSenders() {
		ManagedConnection connection = open(OverflowPolicy.DROP_OLDEST, UnaryOperator.identity());
		this.proxy.freeze();
		List<SendResult> results = new ArrayList<>();
		List<String> prefixes = new ArrayList<>();
		for (int i = 0; i < 2000 && results.stream().noneMatch(SendPathTest::failed); i++) {
			results.add(connection.send(i + ":" + CHUNK));
			prefixes.add(String.valueOf(i));
		}
		// More after the first eviction, all accepted, until four more older ones were pushed out (the
		// kernel's buffers may still take a few: the transport writes them on its own thread).
		for (int i = 0; i < 2000 && results.stream().filter(SendPathTest::failed).count() < 5; i++) {
			results.add(connection.send("late" + i + ":" + CHUNK));
			prefixes.add("late" + i);
		}
		assertThat(results).allMatch(SendResult::isAccepted);
		assertThat(connection.bufferedAmount()).isLessThanOrEqualTo(LIMIT);
		this.proxy.unfreeze();
		List<String> delivered = new ArrayList<>();
		int dropped = 0;
		for (int i = 0; i < results.size(); i++) {
			SendResult result = results.get(i);
			await().atMost(WAIT).until(() -> result.delivery().isDone());
			if (failed(result)) {
				assertThat(failureOf(result)).isEqualTo(SendFailure.DROPPED_OLDEST);
				dropped++;
			}
			else {
				delivered.add(prefixes.get(i));
			}
		}
		assertThat(dropped).isGreaterThanOrEqualTo(4);
		await().atMost(WAIT).until(() -> this.server.received().size() == delivered.size());
		assertThat(this.server.received()).extracting(SendPathTest::prefix).containsExactlyElementsOf(delivered);
	}

	@Test
	void blockMakesTheSenderWaitForRoomAndLetsItInWhenTheLinkMoves() throws Exception {
		ManagedConnection connection = open(OverflowPolicy.BLOCK,
				(settings) -> settings.sendBlockTimeout(Duration.ofSeconds(30)));
		this.proxy.freeze();
		// Fill until the buffer stays near full: the kernel's buffers are full too, nothing moves.
		await().atMost(WAIT).until(() -> {
			connection.send(CHUNK);
			return connection.bufferedAmount() + CHUNK.length() > LIMIT;
		});
		await().during(Duration.ofMillis(300)).atMost(WAIT)
			.until(() -> connection.bufferedAmount() + CHUNK.length() > LIMIT);
		CompletableFuture<SendResult> blocked = CompletableFuture.supplyAsync(() -> connection.send("blocked:" + CHUNK));
		await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> !blocked.isDone());
		this.proxy.unfreeze();
		SendResult result = blocked.get(WAIT.toSeconds(), TimeUnit.SECONDS);
		assertThat(result.isAccepted()).isTrue();
		assertThat(result.delivery()).succeedsWithin(WAIT);
		await().atMost(WAIT).until(() -> this.server.received().stream().anyMatch((m) -> m.startsWith("blocked:")));
	}

	@Test
	void closePolicyDropsTheSlowLinkAndReconnects() {
		ManagedConnection connection = open(OverflowPolicy.CLOSE, UnaryOperator.identity());
		this.proxy.freeze();
		List<SendResult> accepted = new ArrayList<>();
		// Fill the kernel's buffers first, staying under the limit, until nothing moves: otherwise the
		// refusal can come while the kernel still takes bytes, and the transport may write every queued
		// message before the close reaches it (seen on CI), leaving none to report as lost.
		fillKernelBuffersBelowTheLimit(connection, accepted);
		SendResult refused = fillUntilRefused(connection, accepted);
		assertThat(refused.rejection()).contains(SendFailure.BUFFER_FULL);
		await().atMost(WAIT).until(() -> !this.handler.closes.isEmpty());
		CloseEvent close = this.handler.closes.get(0);
		assertThat(close.code()).isEqualTo(1006);
		assertThat(close.reason()).contains("send buffer overflow");
		assertThat(close.willReconnect()).isTrue();
		// Not held while disconnected (the default): every queued message is reported as lost (the
		// transport fails the one it was writing on its own thread, maybe after the close event).
		accepted.forEach((result) -> await().atMost(WAIT).until(() -> result.delivery().isDone()));
		assertThat(accepted).filteredOn(SendPathTest::failed).isNotEmpty();
		this.proxy.unfreeze();
		await().atMost(WAIT).until(() -> this.handler.opens.get() == 2);
	}

	@Test
	void messagesSentWhileDisconnectedAreFlushedInOrderOnceEachAfterTheReconnect() {
		ManualTaskScheduler clock = new ManualTaskScheduler();
		ManagedConnection connection = open(clock, OverflowPolicy.REJECT,
				(settings) -> settings.queueWhileDisconnected(true).heartbeatEnabled(false));
		connection.send("before");
		await().atMost(WAIT).until(() -> this.server.received().contains("before"));
		this.proxy.cutAll();
		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.WAITING_TO_RECONNECT);
		List<SendResult> queued = new ArrayList<>();
		for (int i = 0; i < 200; i++) {
			queued.add(connection.send("queued-" + i));
		}
		assertThat(queued).allMatch(SendResult::isAccepted);
		assertThat(connection.bufferedAmount()).isPositive();
		assertThat(queued).noneMatch((result) -> result.delivery().isDone());
		clock.advanceTo(connection.nextAttemptAt().orElseThrow());
		queued.forEach((result) -> assertThat(result.delivery()).succeedsWithin(WAIT));
		List<String> expected = new ArrayList<>();
		for (int i = 0; i < 200; i++) {
			expected.add("queued-" + i);
		}
		await().atMost(WAIT).until(() -> this.server.received().size() == 201);
		assertThat(this.server.received()).containsExactlyElementsOf(prepend("before", expected));
	}

	@Test
	void messagesHeldWhileDisconnectedAreReportedWhenTheConnectionClosesForGood() {
		ManualTaskScheduler clock = new ManualTaskScheduler();
		ManagedConnection connection = open(clock, OverflowPolicy.REJECT,
				(settings) -> settings.queueWhileDisconnected(true).heartbeatEnabled(false));
		this.proxy.cutAll();
		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.WAITING_TO_RECONNECT);
		SendResult held = connection.send("never");
		assertThat(held.isAccepted()).isTrue();
		connection.close();
		assertThat(failureOf(held)).isEqualTo(SendFailure.CLOSED);
	}

	@Test
	void sendWhileDisconnectedIsRejectedByDefault() {
		ManualTaskScheduler clock = new ManualTaskScheduler();
		ManagedConnection connection = open(clock, OverflowPolicy.REJECT, (settings) -> settings.heartbeatEnabled(false));
		this.proxy.cutAll();
		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.WAITING_TO_RECONNECT);
		assertThat(connection.send("nope").rejection()).contains(SendFailure.NOT_OPEN);
	}

	private ManagedConnection open(OverflowPolicy policy, UnaryOperator<ConnectionSettings.Builder> customizer) {
		return open(this.realScheduler.taskScheduler(), policy, customizer);
	}

	private ManagedConnection open(TaskScheduler scheduler, OverflowPolicy policy,
			UnaryOperator<ConnectionSettings.Builder> customizer) {
		this.registry = new ConnectionRegistry(scheduler, (bundle) -> {
			throw new IllegalStateException("no TLS in this test");
		}, (event) -> {
		}, ConnectionSettings::builder, Duration.ofSeconds(5));
		ConnectionSettings settings = customizer.apply(ConnectionSettings.builder()
			.url("ws://127.0.0.1:" + this.proxy.port() + "/ws")
			.sendBufferLimit(LIMIT)
			.sendOverflow(policy)
			.reconnectInitialDelay(Duration.ofMillis(100))
			.reconnectJitter(Duration.ZERO)
			// the link is frozen on purpose here: the heartbeat must not end the test early
			.heartbeatInterval(Duration.ofMinutes(5))).build();
		ManagedConnection connection = this.registry.register("sender", settings, this.handler);
		connection.start();
		await().atMost(WAIT).until(() -> connection.state() == ConnectionState.OPEN);
		return connection;
	}

	/**
	 * Sends while the connection's buffer has room for another chunk, until for three polls in a row
	 * (300 ms) nothing has left it: then the kernel's buffers are full and the transport writes nothing.
	 */
	private static void fillKernelBuffersBelowTheLimit(ManagedConnection connection, List<SendResult> accepted) {
		AtomicLong amountAfterLastPoll = new AtomicLong(-1);
		AtomicInteger pollsWithoutProgress = new AtomicInteger();
		await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
			boolean moved = connection.bufferedAmount() != amountAfterLastPoll.get();
			pollsWithoutProgress.set(moved ? 0 : pollsWithoutProgress.get() + 1);
			for (int i = 0; i < 64 && connection.bufferedAmount() + CHUNK.length() <= LIMIT; i++) {
				accepted.add(connection.send(accepted.size() + ":" + CHUNK));
			}
			amountAfterLastPoll.set(connection.bufferedAmount());
			return pollsWithoutProgress.get() >= 3;
		});
		assertThat(accepted).allMatch(SendResult::isAccepted);
	}

	private static SendResult fillUntilRefused(ManagedConnection connection, List<SendResult> accepted) {
		for (int i = 0; i < 5000; i++) {
			SendResult result = connection.send(accepted.size() + ":" + CHUNK);
			if (!result.isAccepted()) {
				return result;
			}
			accepted.add(result);
		}
		throw new AssertionError("5000 messages of 32 KiB were accepted by a frozen link");
	}

	private static boolean failed(SendResult result) {
		return result.delivery().isCompletedExceptionally();
	}

	private static SendFailure failureOf(SendResult result) {
		Throwable failure = result.delivery().handle((ok, ex) -> ex).join();
		if (failure instanceof java.util.concurrent.CompletionException) {
			failure = failure.getCause();
		}
		assertThat(failure).isInstanceOf(UndeliveredMessageException.class);
		return ((UndeliveredMessageException) failure).getFailure();
	}

	private static String prefix(String message) {
		return message.substring(0, message.indexOf(':'));
	}

	private static List<String> prepend(String first, List<String> rest) {
		List<String> all = new ArrayList<>();
		all.add(first);
		all.addAll(rest);
		return all;
	}

}
