package io.resilientws.testsupport;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An I/O pool for schedule tests: holds every task, and runs one, chosen by the schedule's random, when
 * told, so that a seed decides the order in which pool work interleaves with everything else.
 */
public final class StepExecutor extends AbstractExecutorService {

	private final List<Runnable> tasks = new ArrayList<>();

	@Override
	public void execute(Runnable task) {
		this.tasks.add(task);
	}

	public void runOne(Random random) {
		if (!this.tasks.isEmpty()) {
			this.tasks.remove(random.nextInt(this.tasks.size())).run();
		}
	}

	/** Runs every task, new ones too, oldest first. */
	public void runAll() {
		while (!this.tasks.isEmpty()) {
			this.tasks.remove(0).run();
		}
	}

	public int pending() {
		return this.tasks.size();
	}

	@Override
	public void shutdown() {
	}

	@Override
	public List<Runnable> shutdownNow() {
		return List.of();
	}

	@Override
	public boolean isShutdown() {
		return false;
	}

	@Override
	public boolean isTerminated() {
		return false;
	}

	@Override
	public boolean awaitTermination(long timeout, TimeUnit unit) {
		return true;
	}

}
