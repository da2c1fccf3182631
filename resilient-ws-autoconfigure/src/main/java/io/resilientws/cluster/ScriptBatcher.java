package io.resilientws.cluster;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.connection.ReturnType;

/**
 * Runs a fixed set of Redis scripts in the order they were asked for, as many as are waiting in one
 * call to Redis. A broadcast to a thousand resuming sessions journals a thousand copies, each
 * session in its own stream; one script per copy made the journal the bottleneck of cluster resume
 * (docs/BENCHMARKS.md §14). Here they go as one {@link #batchScript}: every script becomes a Lua
 * function of its own {@code KEYS} and {@code ARGV}, and the batch calls them one after the other.
 * <p>
 * Order is what the resume store's guarantees rest on (see {@code SessionJournal}), so one batch is
 * on its way to Redis at a time, and the next holds whatever was asked for meanwhile: batches grow by
 * themselves with the load and cost no wait when there is none. Batches are issued on the pool, never
 * on Lettuce's event loop and never on the caller's thread.
 * <p>
 * A script that fails fails only its own call: the batch runs each in {@code pcall} and answers each
 * call with its script's number or the error's text.
 */
final class ScriptBatcher {

	/** Most scripts, and journaled messages, in one batch: bounds how long one batch keeps Redis busy. */
	static final int MAX_UNITS = 512;

	/** Most bytes of arguments in one batch (at least one call goes, however large). */
	static final int MAX_BYTES = 1024 * 1024;

	private final Map<String, Integer> numbers;

	private final String batchSha;

	private final Supplier<@Nullable ReactiveRedisConnection> connection;

	private final Duration timeout;

	private final Executor pool;

	private final Object lock = new Object();

	/** Calls not yet sent, in call order. Guarded by the lock. */
	private final ArrayDeque<Call> waiting = new ArrayDeque<>();

	/** A batch is on its way to Redis, or about to be sent. Guarded by the lock. */
	private boolean busy;

	/**
	 * @param scripts the scripts it runs, each answering with a number; their texts name them in {@link #run}
	 * @param batchSha the SHA-1 of {@link #batchScript} of {@code scripts}, which Redis has loaded
	 * @param connection the connection to send on, null while Redis does not answer
	 * @param pool where batches are sent from
	 */
	ScriptBatcher(List<String> scripts, String batchSha, Supplier<@Nullable ReactiveRedisConnection> connection,
			Duration timeout, Executor pool) {
		this.numbers = IntStream.range(0, scripts.size())
			.boxed()
			.collect(Collectors.toUnmodifiableMap(scripts::get, (index) -> index + 1));
		this.batchSha = batchSha;
		this.connection = connection;
		this.timeout = timeout;
		this.pool = pool;
	}

	/**
	 * Queues {@code script} with its keys and arguments behind every call made before.
	 * @return completes with the script's number, exceptionally when it failed, Redis did not answer in
	 * time, or the connection was down when its batch was due
	 */
	CompletableFuture<Long> run(String script, int keys, ByteBuffer... keysAndArguments) {
		Integer number = this.numbers.get(script);
		if (number == null) {
			throw new IllegalArgumentException("Not a script of this batcher");
		}
		Call call = Call.of(number, keys, keysAndArguments);
		boolean send;
		synchronized (this.lock) {
			this.waiting.add(call);
			send = !this.busy;
			this.busy = true;
		}
		if (send) {
			sendNextOnThePool();
		}
		return call.done();
	}

	private void sendNextOnThePool() {
		try {
			this.pool.execute(this::sendNext);
		}
		catch (RejectedExecutionException ex) {
			// The application stops: nothing more reaches Redis, and nobody waits for it in vain.
			List<Call> left;
			synchronized (this.lock) {
				left = new ArrayList<>(this.waiting);
				this.waiting.clear();
				this.busy = false;
			}
			left.forEach((call) -> call.done().completeExceptionally(ex));
		}
	}

	private void sendNext() {
		while (true) {
			List<Call> batch = nextBatch();
			if (batch.isEmpty()) {
				return;
			}
			ReactiveRedisConnection redis = this.connection.get();
			if (redis != null) {
				try {
					send(redis, batch);
					return;
				}
				catch (RuntimeException ex) {
					// Not sent (the connection refused the command): fail these, and the queue goes on.
					batch.forEach((call) -> call.done().completeExceptionally(ex));
					continue;
				}
			}
			IllegalStateException down = new IllegalStateException("Redis unreachable");
			batch.forEach((call) -> call.done().completeExceptionally(down));
		}
	}

	private void send(ReactiveRedisConnection redis, List<Call> batch) {
		List<ByteBuffer> keys = new ArrayList<>();
		List<ByteBuffer> arguments = new ArrayList<>();
		for (Call call : batch) {
			ByteBuffer[] all = call.keysAndArguments();
			keys.addAll(List.of(all).subList(0, call.keys()));
			arguments.add(RedisKeys.bytes(Integer.toString(call.number())));
			arguments.add(RedisKeys.bytes(Integer.toString(call.keys())));
			arguments.add(RedisKeys.bytes(Integer.toString(all.length - call.keys())));
			arguments.addAll(List.of(all).subList(call.keys(), all.length));
		}
		List<ByteBuffer> keysThenArguments = new ArrayList<>(keys);
		keysThenArguments.addAll(arguments);
		redis.scriptingCommands()
			.evalSha(this.batchSha, ReturnType.MULTI, keys.size(), keysThenArguments.toArray(ByteBuffer[]::new))
			.collectList()
			.timeout(this.timeout)
			.toFuture()
			.whenComplete((answers, failure) -> {
				complete(batch, answers, failure);
				sendNextOnThePool();
			});
	}

	// The calls that go next, in order; none (and no longer busy) when nothing waits.
	private List<Call> nextBatch() {
		List<Call> batch = new ArrayList<>();
		synchronized (this.lock) {
			int units = 0;
			int bytes = 0;
			Call next;
			while ((next = this.waiting.peek()) != null
					&& (batch.isEmpty() || (units + next.units() <= MAX_UNITS && bytes + next.bytes() <= MAX_BYTES))) {
				batch.add(this.waiting.poll());
				units += next.units();
				bytes += next.bytes();
			}
			if (batch.isEmpty()) {
				this.busy = false;
			}
		}
		return batch;
	}

	private static void complete(List<Call> batch, @Nullable List<Object> answers, @Nullable Throwable failure) {
		List<Object> each = List.of();
		if (failure == null) {
			try {
				each = RedisResumeStore.flatten(answers);
			}
			catch (IllegalStateException empty) {
				failure = empty;
			}
		}
		for (int i = 0; i < batch.size(); i++) {
			CompletableFuture<Long> done = batch.get(i).done();
			if (failure != null) {
				done.completeExceptionally(failure);
			}
			else if (i >= each.size()) {
				done.completeExceptionally(new IllegalStateException(
						"Redis answered a batch of " + batch.size() + " scripts with " + each.size() + " answers"));
			}
			else if (each.get(i) instanceof Number number) {
				done.complete(number.longValue());
			}
			else {
				done.completeExceptionally(new IllegalStateException("A script failed in Redis: "
						+ ((each.get(i) instanceof ByteBuffer text) ? RedisKeys.string(text.duplicate()) : each.get(i))));
			}
		}
	}

	// Each script a function whose parameters shadow the global KEYS and ARGV; then, per call in the
	// batch: its script's number, how many keys and arguments it has, the arguments (the keys are KEYS,
	// all calls' in order).
	static String batchScript(List<String> scripts) {
		StringBuilder lua = new StringBuilder("local scripts = {}\n");
		for (int i = 0; i < scripts.size(); i++) {
			lua.append("scripts[").append(i + 1).append("] = function(KEYS, ARGV)\n")
				.append(scripts.get(i).strip())
				.append("\nend\n");
		}
		lua.append("""
				local answers = {}
				local k, a = 1, 1
				while a <= #ARGV do
				  local number, nkeys, nargs = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
				  a = a + 3
				  local keys, args = {}, {}
				  for i = 1, nkeys do keys[i] = KEYS[k]; k = k + 1 end
				  for i = 1, nargs do args[i] = ARGV[a]; a = a + 1 end
				  local ok, answer = pcall(scripts[number], keys, args)
				  if ok then
				    answers[#answers + 1] = answer
				  else
				    answers[#answers + 1] = type(answer) == 'table' and tostring(answer.err) or tostring(answer)
				  end
				end
				return answers""");
		return lua.toString();
	}

	/**
	 * One script to run: its number in the batch script, its keys and arguments, and its answer; with
	 * its weight in a batch, counted once: about one unit per three arguments (a journal append has
	 * three per message), and its bytes.
	 */
	private record Call(int number, int keys, ByteBuffer[] keysAndArguments, int units, int bytes,
			CompletableFuture<Long> done) {

		static Call of(int number, int keys, ByteBuffer[] keysAndArguments) {
			int bytes = 0;
			for (ByteBuffer value : keysAndArguments) {
				bytes += value.remaining();
			}
			return new Call(number, keys, keysAndArguments, 1 + (keysAndArguments.length - keys) / 3, bytes,
					new CompletableFuture<>());
		}

	}

}
