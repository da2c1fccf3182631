package io.resilientws.send;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A message's delivery future: completed at once on the thread that learns the outcome (the
 * transport's, mostly), while every stage attached to it runs on the connection's completions
 * executor, in order, never on an I/O thread or under a lock.
 * <p>
 * Completing each future through that executor instead woke a pool thread per written message,
 * even when nobody had attached anything (the echo benchmark: two hand-offs per round trip on the
 * client). Here a future without stages costs its completion only; a stage costs one hand-off, as
 * before. Every dependent method without an executor is its {@code ...Async} form on the completions
 * executor, so user code attached before or after completion never runs on the completing thread.
 */
final class DeliveryFuture extends CompletableFuture<Void> {

	private final Executor completions;

	DeliveryFuture(Executor completions) {
		this.completions = completions;
	}

	@Override
	public Executor defaultExecutor() {
		return this.completions;
	}

	@Override
	public <U> CompletableFuture<U> newIncompleteFuture() {
		// Stages made from this one are ordinary: they complete on the completions executor already.
		return new CompletableFuture<>();
	}

	@Override
	public <U> CompletableFuture<U> thenApply(Function<? super Void, ? extends U> fn) {
		return thenApplyAsync(fn);
	}

	@Override
	public CompletableFuture<Void> thenAccept(Consumer<? super Void> action) {
		return thenAcceptAsync(action);
	}

	@Override
	public CompletableFuture<Void> thenRun(Runnable action) {
		return thenRunAsync(action);
	}

	@Override
	public <U, V> CompletableFuture<V> thenCombine(CompletionStage<? extends U> other,
			BiFunction<? super Void, ? super U, ? extends V> fn) {
		return thenCombineAsync(other, fn);
	}

	@Override
	public <U> CompletableFuture<Void> thenAcceptBoth(CompletionStage<? extends U> other,
			BiConsumer<? super Void, ? super U> action) {
		return thenAcceptBothAsync(other, action);
	}

	@Override
	public CompletableFuture<Void> runAfterBoth(CompletionStage<?> other, Runnable action) {
		return runAfterBothAsync(other, action);
	}

	@Override
	public <U> CompletableFuture<U> applyToEither(CompletionStage<? extends Void> other,
			Function<? super Void, U> fn) {
		return applyToEitherAsync(other, fn);
	}

	@Override
	public CompletableFuture<Void> acceptEither(CompletionStage<? extends Void> other, Consumer<? super Void> action) {
		return acceptEitherAsync(other, action);
	}

	@Override
	public CompletableFuture<Void> runAfterEither(CompletionStage<?> other, Runnable action) {
		return runAfterEitherAsync(other, action);
	}

	@Override
	public <U> CompletableFuture<U> thenCompose(Function<? super Void, ? extends CompletionStage<U>> fn) {
		return thenComposeAsync(fn);
	}

	@Override
	public <U> CompletableFuture<U> handle(BiFunction<? super Void, Throwable, ? extends U> fn) {
		return handleAsync(fn);
	}

	@Override
	public CompletableFuture<Void> whenComplete(BiConsumer<? super Void, ? super Throwable> action) {
		return whenCompleteAsync(action);
	}

	@Override
	public CompletableFuture<Void> exceptionally(Function<Throwable, ? extends Void> fn) {
		return exceptionallyAsync(fn);
	}

	@Override
	public CompletableFuture<Void> exceptionallyCompose(Function<Throwable, ? extends CompletionStage<Void>> fn) {
		return exceptionallyComposeAsync(fn);
	}

	@Override
	public CompletableFuture<Void> copy() {
		return thenApplyAsync(Function.identity());
	}

	@Override
	public CompletionStage<Void> minimalCompletionStage() {
		return copy().minimalCompletionStage();
	}

}
