package io.resilientws.server;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.resilientws.send.OutboundMessage;
import org.jspecify.annotations.Nullable;

/** {@link Fanout#singleInstance()}: one instance is the whole cluster. */
final class SingleInstanceFanout implements Fanout {

	private volatile @Nullable Receiver receiver;

	@Override
	public void start(Receiver receiver) {
		this.receiver = receiver;
	}

	@Override
	public CompletableFuture<ClusterPublication> publish(SessionSelector selector, OutboundMessage message) {
		return CompletableFuture.completedFuture(ClusterPublication.singleInstance());
	}

	@Override
	public void opened(ManagedSession session) {
	}

	@Override
	public void closed(ManagedSession session) {
	}

	@Override
	public boolean admitPrincipal(String principal, int limit) {
		// The registry's own count is the whole count.
		return true;
	}

	@Override
	public void releasePrincipal(String principal) {
	}

	@Override
	public ClusterView view() {
		Receiver started = this.receiver;
		Counts counts = (started != null) ? started.counts() : new Counts(java.util.Map.of(), java.util.Map.of());
		return new ClusterView("local", ClusterView.Status.SINGLE_INSTANCE,
				List.of(new ClusterView.Node("local", counts.sessionsByEndpoint(), Instant.now(), true)));
	}

	@Override
	public void leave() {
	}

	@Override
	public void stop() {
	}

}
