package io.resilientws.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The publication log's ordering lock, without Redis. */
class PublicationLogTest {

	@Test
	void aSessionThatStopsTakingMessagesDuringAPublicationOnTheSameThreadDoesNotWaitForever() {
		PublicationLog log = new PublicationLog("p:");
		List<String> done = new ArrayList<>();
		// An overflow during a drain: the broadcast's local copy closes a session being handed over, on the
		// broadcasting thread, which then marks the session in the store.
		assertTimeoutPreemptively(Duration.ofSeconds(5), () -> log.publishing(() -> {
			log.stopTaking(() -> done.add("stopped"), () -> done.add("marked"));
			return null;
		}));
		assertThat(done).containsExactly("stopped", "marked");
	}

	@Test
	void aTakeoverWaitsForAPublicationUnderWayAndPublicationsWaitForIt() throws Exception {
		PublicationLog log = new PublicationLog("p:");
		List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());
		java.util.concurrent.CountDownLatch publishing = new java.util.concurrent.CountDownLatch(1);
		java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
		Thread publisher = new Thread(() -> log.publishing(() -> {
			order.add("publish");
			publishing.countDown();
			await(release);
			order.add("copies queued");
			return null;
		}));
		publisher.start();
		await(publishing);
		Thread takeover = new Thread(() -> log.registerAndRead(() -> order.add("register"), () -> order.add("read")));
		takeover.start();
		// The takeover cannot get in while the publication holds the lock: it parks.
		org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
			.until(() -> takeover.getState() == Thread.State.WAITING);
		assertThat(order).containsExactly("publish");
		release.countDown();
		publisher.join(5000);
		takeover.join(5000);
		assertThat(order).containsExactly("publish", "copies queued", "register", "read");
	}

	private static void await(java.util.concurrent.CountDownLatch latch) {
		try {
			assertThat(latch.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
