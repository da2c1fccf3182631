package io.resilientws.server;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.send.OverflowPolicy;
import io.resilientws.send.SendLimits;
import io.resilientws.testsupport.FakeContainerSession;
import io.resilientws.testsupport.ManualTaskScheduler;
import io.resilientws.testsupport.StepExecutor;
import org.junit.jupiter.api.Test;

import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.PingMessage;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketMessage;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cause a closed session is counted under when a second reason to end it comes while the first
 * is under way: the first one decided stands. One session of a real registry on a fake container
 * session, a manual clock and an I/O pool that runs its tasks only when told, so that every step
 * happens on the test's thread in the order written here.
 */
class ManagedSessionCloseCauseTest {

	private final ManualTaskScheduler scheduler = new ManualTaskScheduler();

	private final StepExecutor pool = new StepExecutor();

	private final List<SessionEvent> events = new CopyOnWriteArrayList<>();

	private final ContainerSession container = new ContainerSession();

	private ServerSessionRegistry registry;

	private ManagedSession session;

	@Test
	void aSessionWhoseWriteFailedIsCountedAsAnErrorWhenTheDrainReachesIt() {
		open(0);
		this.container.failWrites = true;
		assertThat(this.session.send("lost").isAccepted()).isTrue();
		this.pool.runAll();
		assertThat(this.container.closes).extracting(CloseStatus::getCode).containsExactly(1011);
		// The drain comes before the container has reported the terminated session closed.
		this.registry.stop(() -> {
		});
		this.scheduler.advance(Duration.ofMillis(500));
		this.pool.runAll();
		assertThat(this.container.closes).extracting(CloseStatus::getCode).containsExactly(1011, 1001);
		// As Tomcat reports a terminated session.
		this.registry.closed(this.container, new CloseStatus(1006));
		assertThat(closed().cause()).isEqualTo(CloseCause.ERROR);
	}

	@Test
	void aHeartbeatDeathDuringTheDrainsCloseHandshakeIsCountedAsShutdown() {
		open(0);
		this.registry.stop(() -> {
		});
		this.scheduler.advance(Duration.ofMillis(500));
		this.pool.runAll();
		assertThat(this.container.closes).extracting(CloseStatus::getReason).containsExactly("server shutting down");
		// The peer answers neither the close frame nor the ping: the heartbeat declares it dead.
		this.scheduler.advance(Duration.ofSeconds(3));
		this.pool.runAll();
		assertThat(this.container.closes).extracting(CloseStatus::getReason)
			.containsExactly("server shutting down", "heartbeat timeout");
		this.registry.closed(this.container, new CloseStatus(1006));
		assertThat(closed().cause()).isEqualTo(CloseCause.SHUTDOWN);
	}

	@Test
	void aSlowConsumerCutWhileTheApplicationsCloseWaitsIsCountedByTheApplicationsCode() {
		open(0);
		// The pool never runs in this test: the write stays in progress.
		assertThat(this.session.send("stuck").isAccepted()).isTrue();
		this.session.close(CloseStatus.NORMAL);
		// The registry's sweep finds the write stuck past the send time limit and cuts the session.
		this.scheduler.advance(Duration.ofSeconds(2));
		assertThat(this.events).filteredOn(SessionEvent.Overflow.class::isInstance).hasSize(1);
		this.registry.closed(this.container, new CloseStatus(1006));
		assertThat(closed().cause()).isEqualTo(CloseCause.NORMAL);
	}

	@Test
	void anOversizeMessageWhileTheApplicationsCloseFlushesIsCountedByTheApplicationsCode() {
		open(1024);
		this.session.close(CloseStatus.NORMAL);
		assertThat(this.session.inbound(new TextMessage("x".repeat(2048)))).isFalse();
		this.pool.runAll();
		assertThat(this.container.closes).extracting(CloseStatus::getCode).containsExactly(1009, 1000);
		this.registry.closed(this.container, new CloseStatus(1009));
		assertThat(closed().cause()).isEqualTo(CloseCause.NORMAL);
	}

	/** Heartbeat: a ping every second, dead after one unanswered for a second; sends stall after 1 s. */
	private void open(long maxMessageSize) {
		HeartbeatSettings heartbeat = new HeartbeatSettings(true, Duration.ofSeconds(1), Duration.ofSeconds(1), 1, true,
				HeartbeatMode.FRAME, HeartbeatSettings.DEFAULT_PING_TEXT, HeartbeatSettings.DEFAULT_PONG_TEXT);
		ServerSettings settings = new ServerSettings(heartbeat,
				new ServerSettings.AppHeartbeat(false, "__rws_ping__", "__rws_pong__"),
				new SendLimits(64 * 1024, OverflowPolicy.REJECT, Duration.ofSeconds(1), 0, 1),
				ServerOverflowPolicy.TERMINATE, Duration.ofSeconds(1), 1013, maxMessageSize, 0, 10, 0, 0,
				Duration.ofSeconds(10), List.of(),
				new ServerSettings.Shutdown(1001, Duration.ofMillis(500), Duration.ofSeconds(10)), ServerSettings.Resume.DISABLED);
		this.registry = new ServerSessionRegistry(settings, this.scheduler, () -> {
		}, this.pool);
		this.registry.addListener(this.events::add);
		this.registry.start();
		this.session = this.registry.opened(this.container, "/chat");
	}

	private SessionEvent.Closed closed() {
		List<SessionEvent.Closed> closed = this.events.stream()
			.filter(SessionEvent.Closed.class::isInstance)
			.map(SessionEvent.Closed.class::cast)
			.toList();
		assertThat(closed).hasSize(1);
		return closed.get(0);
	}

	/**
	 * The container's session: records the closes the library asks for and fails writes when told.
	 * It never reports a close by itself; the test does, as the container would, with
	 * {@code registry.closed}.
	 */
	private static final class ContainerSession extends FakeContainerSession {

		final List<CloseStatus> closes = new ArrayList<>();

		boolean failWrites;

		ContainerSession() {
			super("s1", URI.create("ws://localhost/chat"));
		}

		@Override
		public void sendMessage(WebSocketMessage<?> message) throws IOException {
			if (this.failWrites && !(message instanceof PingMessage)) {
				throw new IOException("broken pipe");
			}
		}

		@Override
		public void close(CloseStatus status) {
			this.closes.add(status);
		}

		@Override
		public boolean isOpen() {
			return true;
		}

	}

}
