package io.resilientws.server;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.resilientws.testsupport.ManualTaskScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The registry admits handshakes only once it has started, and in cluster mode that is after the
 * cluster's first heartbeat: the web server starts first, and a resuming session accepted before the
 * instance is in the cluster would never be journaled.
 */
class RegistryStartTest {

	private final ExecutorService pool = Executors.newSingleThreadExecutor();

	private final CountDownLatch joined = new CountDownLatch(1);

	@AfterEach
	void stop() {
		this.joined.countDown();
		this.pool.shutdownNow();
	}

	@Test
	void handshakesAreRefusedAsStartingUntilTheFanOutHasJoined() throws Exception {
		ServerSessionRegistry registry = new ServerSessionRegistry(ResumeWhileTheOldConnectionReadsTest.settings(),
				new ManualTaskScheduler(), () -> {
				}, this.pool, slowToJoin(Fanout.singleInstance()));
		assertThat(registry.admit(null)).isEqualTo("starting");
		Thread starting = new Thread(registry::start);
		starting.start();
		// Starting, and waiting for the first heartbeat.
		await().atMost(Duration.ofSeconds(10)).until(() -> starting.getState() == Thread.State.TIMED_WAITING);
		assertThat(registry.admit(null)).isEqualTo("starting");
		this.joined.countDown();
		starting.join(TimeUnit.SECONDS.toMillis(10));
		assertThat(registry.admit(null)).isNull();
	}

	// A fan-out whose start waits as a cluster's first heartbeat does, until the test lets it end.
	private Fanout slowToJoin(Fanout fanout) {
		return (Fanout) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] { Fanout.class },
				(proxy, method, arguments) -> {
					if (method.getName().equals("start")) {
						assertThat(this.joined.await(10, TimeUnit.SECONDS)).isTrue();
					}
					try {
						return method.invoke(fanout, arguments);
					}
					catch (InvocationTargetException ex) {
						throw ex.getCause();
					}
				});
	}

}
