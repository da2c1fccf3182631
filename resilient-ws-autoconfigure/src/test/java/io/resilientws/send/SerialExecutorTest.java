package io.resilientws.send;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SerialExecutorTest {

	private final List<Runnable> poolTasks = new ArrayList<>();

	private final Executor pool = this.poolTasks::add;

	@Test
	void tasksRunInOrderOneAtATime() {
		SerialExecutor serial = new SerialExecutor(this.pool);
		List<Integer> ran = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			int n = i;
			serial.execute(() -> ran.add(n));
		}
		assertThat(this.poolTasks).hasSize(1);
		runPool();
		assertThat(ran).containsExactly(0, 1, 2, 3, 4);
	}

	@Test
	void aBusyQueueYieldsItsPoolThreadAfterATurn() {
		SerialExecutor serial = new SerialExecutor(this.pool);
		List<Integer> ran = new ArrayList<>();
		int tasks = SerialExecutor.MAX_TASKS_PER_TURN * 2 + 10;
		for (int i = 0; i < tasks; i++) {
			int n = i;
			serial.execute(() -> ran.add(n));
		}
		this.poolTasks.remove(0).run();
		// One turn ran its share and queued the next turn behind whatever else the pool has to do.
		assertThat(ran).hasSize(SerialExecutor.MAX_TASKS_PER_TURN);
		assertThat(this.poolTasks).hasSize(1);
		runPool();
		assertThat(ran).hasSize(tasks).isSorted();
	}

	@Test
	void whatIsLeftWhenThePoolShutsDownRunsOnTheLastTurnInsteadOfThrowingThere() {
		boolean[] shutDown = { false };
		Executor closingPool = (task) -> {
			if (shutDown[0]) {
				throw new RejectedExecutionException("shut down");
			}
			this.poolTasks.add(task);
		};
		SerialExecutor serial = new SerialExecutor(closingPool);
		List<Integer> ran = new ArrayList<>();
		int tasks = SerialExecutor.MAX_TASKS_PER_TURN + 10;
		for (int i = 0; i < tasks; i++) {
			int n = i;
			serial.execute(() -> ran.add(n));
		}
		shutDown[0] = true;
		this.poolTasks.remove(0).run();
		assertThat(ran).hasSize(tasks).isSorted();
	}

	private void runPool() {
		while (!this.poolTasks.isEmpty()) {
			this.poolTasks.remove(0).run();
		}
	}

}
