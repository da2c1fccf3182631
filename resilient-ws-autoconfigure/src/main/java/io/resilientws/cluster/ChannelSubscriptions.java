package io.resilientws.cluster;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;

import io.resilientws.send.SerialExecutor;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;

import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.connection.ReactiveSubscription;

/**
 * This node's Redis subscriptions: the channels its sessions and users need, counted (a user's channel
 * stays while any of their sessions is here), on one pub/sub connection.
 * <p>
 * Which channels are wanted is decided under this object's lock; the SUBSCRIBE and UNSUBSCRIBE
 * commands go out afterwards, in the order decided, from one serial executor. After a Redis restart
 * Lettuce subscribes its connection again by itself; {@link #renew()} (called when the node's probe
 * finds nobody listening, or after a failure) does it once more from this list, so a lost subscription
 * cannot stay lost, which is the failure Socket.IO's Redis adapter is known for.
 */
final class ChannelSubscriptions {

	private static final Log logger = LogFactory.getLog(ChannelSubscriptions.class);

	private final ReactiveRedisConnectionFactory factory;

	private final Duration timeout;

	private final Executor commands;

	private final BiConsumer<String, ByteBuffer> receiver;

	private final Map<String, Integer> wanted = new HashMap<>();

	/** Touched only on the serial executor. */
	private @Nullable Subscribed current;

	private record Subscribed(ReactiveRedisConnection connection, ReactiveSubscription subscription,
			Disposable receiving) {
	}

	ChannelSubscriptions(ReactiveRedisConnectionFactory factory, Duration timeout, Executor pool,
			BiConsumer<String, ByteBuffer> receiver) {
		this.factory = factory;
		this.timeout = timeout;
		this.commands = new SerialExecutor(pool);
		this.receiver = receiver;
	}

	/** Wants {@code channel} once more; subscribes on the first want. */
	void acquire(String channel) {
		boolean first;
		synchronized (this) {
			first = this.wanted.merge(channel, 1, Integer::sum) == 1;
		}
		if (first) {
			this.commands.execute(() -> command(channel, true));
		}
	}

	/** Wants {@code channel} once less; unsubscribes when nobody wants it. */
	void release(String channel) {
		boolean last;
		synchronized (this) {
			Integer left = this.wanted.computeIfPresent(channel, (name, count) -> (count > 1) ? count - 1 : null);
			last = left == null;
		}
		if (last) {
			this.commands.execute(() -> command(channel, false));
		}
	}

	/** Completes once the subscriptions asked for so far have been sent, and answered or failed. */
	CompletableFuture<Void> synced() {
		CompletableFuture<Void> synced = new CompletableFuture<>();
		this.commands.execute(() -> synced.complete(null));
		return synced;
	}

	/** Whether this node wants the channel (so a publish to it reaches this node too). */
	synchronized boolean wants(String channel) {
		return this.wanted.containsKey(channel);
	}

	/**
	 * Makes sure every wanted channel is subscribed, on a new pub/sub connection if the old one failed.
	 * Runs after the commands already queued.
	 */
	CompletableFuture<Void> renew() {
		CompletableFuture<Void> renewed = new CompletableFuture<>();
		this.commands.execute(() -> {
			renewNow();
			renewed.complete(null);
		});
		return renewed;
	}

	/** Unsubscribes from everything and closes the pub/sub connection. */
	CompletableFuture<Void> close() {
		CompletableFuture<Void> closed = new CompletableFuture<>();
		this.commands.execute(() -> {
			Subscribed subscribed = this.current;
			this.current = null;
			if (subscribed != null) {
				subscribed.receiving().dispose();
				try {
					subscribed.subscription().cancel().then(subscribed.connection().closeLater()).block(this.timeout);
				}
				catch (RuntimeException ex) {
					logger.debug("Cluster subscription did not close cleanly", ex);
				}
			}
			closed.complete(null);
		});
		return closed;
	}

	private void command(String channel, boolean subscribe) {
		Subscribed subscribed = this.current;
		if (subscribed == null) {
			return; // renew() subscribes everything wanted once there is a connection
		}
		ByteBuffer name = RedisKeys.bytes(channel);
		(subscribe ? subscribed.subscription().subscribe(name) : subscribed.subscription().unsubscribe(name))
			.timeout(this.timeout)
			.subscribe(null, (failure) -> logger.debug("Could not " + (subscribe ? "subscribe to " : "unsubscribe from ")
					+ "a cluster channel; the next heartbeat retries", failure));
	}

	private void renewNow() {
		List<ByteBuffer> channels = new ArrayList<>();
		synchronized (this) {
			this.wanted.keySet().forEach((channel) -> channels.add(RedisKeys.bytes(channel)));
		}
		try {
			Subscribed subscribed = this.current;
			if (subscribed == null || subscribed.receiving().isDisposed()) {
				if (subscribed != null) {
					dispose(subscribed);
				}
				subscribed = open();
				this.current = subscribed;
			}
			if (!channels.isEmpty()) {
				subscribed.subscription().subscribe(channels.toArray(ByteBuffer[]::new)).block(this.timeout);
			}
		}
		catch (RuntimeException ex) {
			logger.debug("Could not renew the cluster subscriptions; the next heartbeat retries", ex);
			Subscribed failed = this.current;
			this.current = null;
			if (failed != null) {
				dispose(failed);
			}
		}
	}

	private Subscribed open() {
		ReactiveRedisConnection connection = this.factory.getReactiveConnection();
		try {
			ReactiveSubscription subscription = connection.pubSubCommands().createSubscription().block(this.timeout);
			if (subscription == null) {
				throw new IllegalStateException("No subscription");
			}
			// Lettuce calls this on its event loop, one message at a time, in the order Redis sent them.
			Disposable receiving = subscription.receive()
				.subscribe((message) -> this.receiver.accept(RedisKeys.string(message.getChannel()), message.getMessage()),
						(failure) -> logger.debug("Cluster subscription ended; the next heartbeat renews it", failure));
			return new Subscribed(connection, subscription, receiving);
		}
		catch (RuntimeException ex) {
			connection.closeLater().subscribe(null, (ignored) -> {
			});
			throw ex;
		}
	}

	private void dispose(Subscribed subscribed) {
		subscribed.receiving().dispose();
		subscribed.subscription().cancel().onErrorComplete().then(subscribed.connection().closeLater()).subscribe(null,
				(ignored) -> {
				});
	}

}
