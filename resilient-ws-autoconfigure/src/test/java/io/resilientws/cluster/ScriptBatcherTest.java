package io.resilientws.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import io.resilientws.testsupport.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Scripts batched many to one call, against a real redis-server. */
class ScriptBatcherTest {

	private static final Duration TIMEOUT = Duration.ofSeconds(10);

	// KEYS: a list. ARGV: a value. Appends it and answers with the list's length.
	private static final String PUSH = """
			redis.call('RPUSH', KEYS[1], ARGV[1])
			return redis.call('LLEN', KEYS[1])""";

	// KEYS: a string. Fails when the value is not a number.
	private static final String INCREMENT = "return redis.call('INCR', KEYS[1])";

	private static final List<String> SCRIPTS = List.of(PUSH, INCREMENT);

	private static final String BATCH = ScriptBatcher.batchScript(SCRIPTS);

	private RedisServer redis;

	private LettuceConnectionFactory factory;

	private ReactiveRedisConnection connection;

	private final ExecutorService pool = Executors.newFixedThreadPool(2);

	@BeforeEach
	void start() {
		this.redis = RedisServer.start();
		this.factory = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", this.redis.port()));
		this.factory.afterPropertiesSet();
		this.factory.start();
		this.connection = this.factory.getReactiveConnection();
		this.connection.scriptingCommands().scriptLoad(RedisKeys.bytes(BATCH)).block(TIMEOUT);
	}

	@AfterEach
	void stop() throws InterruptedException {
		this.pool.shutdown();
		this.pool.awaitTermination(5, TimeUnit.SECONDS);
		this.connection.close();
		this.factory.destroy();
		this.redis.close();
	}

	@Test
	void manyCallsGoInFewBatchesAndRedisAppliesThemInCallOrder() {
		ScriptBatcher batcher = batcher();
		long callsBefore = evalshaCalls();
		List<CompletableFuture<Long>> answers = new ArrayList<>();
		for (int i = 0; i < 2000; i++) {
			answers.add(batcher.run(PUSH, 1, RedisKeys.bytes("list"), RedisKeys.bytes(Integer.toString(i))));
		}
		List<Long> lengths = answers.stream().map((answer) -> answer.orTimeout(10, TimeUnit.SECONDS).join()).toList();
		assertThat(lengths).containsExactlyElementsOf(LongStream.rangeClosed(1, 2000).boxed().toList());
		List<String> stored = this.connection.listCommands()
			.lRange(RedisKeys.bytes("list"), 0, -1)
			.map(RedisKeys::string)
			.collectList()
			.block(TIMEOUT);
		assertThat(stored).containsExactlyElementsOf(LongStream.range(0, 2000).mapToObj(Long::toString).toList());
		// One call to Redis per call asked for would be 2,000: the calls made while a batch was on its way
		// went together in the next one.
		assertThat(evalshaCalls() - callsBefore).isLessThan(200);
	}

	@Test
	void aScriptThatFailsFailsOnlyItsOwnCall() {
		this.connection.stringCommands().set(RedisKeys.bytes("text"), RedisKeys.bytes("not a number")).block(TIMEOUT);
		ScriptBatcher batcher = batcher();
		// Held back behind a first call, the three go in one batch.
		CompletableFuture<Long> first = batcher.run(INCREMENT, 1, RedisKeys.bytes("counter"));
		CompletableFuture<Long> failing = batcher.run(INCREMENT, 1, RedisKeys.bytes("text"));
		CompletableFuture<Long> after = batcher.run(INCREMENT, 1, RedisKeys.bytes("counter"));
		assertThat(first.orTimeout(10, TimeUnit.SECONDS).join()).isEqualTo(1);
		assertThatThrownBy(() -> failing.orTimeout(10, TimeUnit.SECONDS).join())
			.hasMessageContaining("A script failed in Redis")
			.hasMessageContaining("not an integer");
		assertThat(after.orTimeout(10, TimeUnit.SECONDS).join()).isEqualTo(2);
	}

	@Test
	void callsFailWhenTheConnectionIsDownWhenTheirBatchIsDue() {
		ScriptBatcher batcher = new ScriptBatcher(SCRIPTS, RedisResumeStore.sha1(BATCH), () -> null, TIMEOUT,
				this.pool);
		CompletableFuture<Long> answer = batcher.run(INCREMENT, 1, RedisKeys.bytes("counter"));
		assertThatThrownBy(() -> answer.orTimeout(10, TimeUnit.SECONDS).join()).hasMessageContaining("Redis unreachable");
		// And the next call is not stuck behind it.
		CompletableFuture<Long> next = batcher.run(INCREMENT, 1, RedisKeys.bytes("counter"));
		assertThatThrownBy(() -> next.orTimeout(10, TimeUnit.SECONDS).join()).hasMessageContaining("Redis unreachable");
	}

	@Test
	void aCallOfAScriptItWasNotMadeForIsRefusedAtOnce() {
		assertThatThrownBy(() -> batcher().run("return 1", 0)).isInstanceOf(IllegalArgumentException.class);
	}

	private ScriptBatcher batcher() {
		return new ScriptBatcher(SCRIPTS, RedisResumeStore.sha1(BATCH), () -> this.connection, TIMEOUT, this.pool);
	}

	private long evalshaCalls() {
		Properties stats = this.connection.serverCommands().info("commandstats").block(TIMEOUT);
		String line = stats.getProperty("cmdstat_evalsha");
		if (line == null) {
			return 0;
		}
		// calls=N,usec=...
		return Long.parseLong(line.substring(line.indexOf("calls=") + 6, line.indexOf(',')));
	}

}
