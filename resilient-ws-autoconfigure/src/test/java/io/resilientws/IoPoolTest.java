package io.resilientws;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class IoPoolTest {

	@Test
	void aBoundedPoolQueuesWhatItsThreadsCannotTakeInsteadOfGrowing() throws InterruptedException {
		ExecutorService pool = IoPool.bounded("test-io-", 4);
		CountDownLatch release = new CountDownLatch(1);
		Set<String> threads = ConcurrentHashMap.newKeySet();
		AtomicInteger done = new AtomicInteger();
		try {
			// Forty blocking tasks, as forty stuck sockets would be: four threads, the rest waits.
			for (int i = 0; i < 40; i++) {
				pool.execute(() -> {
					threads.add(Thread.currentThread().getName());
					try {
						release.await();
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
					}
					done.incrementAndGet();
				});
			}
			await().atMost(Duration.ofSeconds(10)).until(() -> threads.size() == 4);
			release.countDown();
			await().atMost(Duration.ofSeconds(10)).until(() -> done.get() == 40);
			assertThat(threads).hasSize(4).allMatch((name) -> name.startsWith("test-io-"));
		}
		finally {
			pool.shutdown();
			assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
		}
	}

	@Test
	void withoutVirtualThreadsTheDefaultIsBounded() {
		ExecutorService pool = IoPool.create("test-io-", false);
		try {
			assertThat(pool).isInstanceOfSatisfying(java.util.concurrent.ThreadPoolExecutor.class,
					(executor) -> assertThat(executor.getMaximumPoolSize()).isEqualTo(IoPool.DEFAULT_THREADS));
		}
		finally {
			pool.shutdown();
		}
	}

}
