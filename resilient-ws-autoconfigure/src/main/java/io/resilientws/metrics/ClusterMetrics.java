package io.resilientws.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.resilientws.cluster.ClusterStatistics;
import io.resilientws.server.ClusterView;
import io.resilientws.server.ServerSessionRegistry;

/**
 * Meters of cluster mode:
 * <ul>
 * <li>{@code resilientws.cluster.nodes}: live instances in this instance's view, itself included;</li>
 * <li>{@code resilientws.cluster.messages.published}, {@code .received}, {@code .failed} (could not be
 * published: the other instances did not get it), tagged {@code target} = {@code broadcast},
 * {@code session} or {@code principal}; {@code resilientws.cluster.messages.invalid}: messages on this
 * library's channels that were not a valid envelope;</li>
 * <li>{@code resilientws.cluster.delivery.latency}: from the publish on one instance to the hand-over
 * to the sessions of another (on separate hosts this includes their clock difference).</li>
 * </ul>
 * No tag names a node: node ids are generated anew at each start by default, and would make the
 * meters grow without bound over restarts; the endpoint and the health show the nodes instead.
 */
public final class ClusterMetrics implements MeterBinder {

	/** The prefix of every meter name. */
	public static final String PREFIX = "resilientws.cluster.";

	private final ServerSessionRegistry sessions;

	private final ClusterStatistics statistics;

	public ClusterMetrics(ServerSessionRegistry sessions, ClusterStatistics statistics) {
		this.sessions = sessions;
		this.statistics = statistics;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		Gauge.builder(PREFIX + "nodes", this.sessions, (registryOfSessions) -> liveNodes(registryOfSessions.clusterView()))
			.description("Live instances in this instance's cluster view, itself included")
			.register(registry);
		for (ClusterStatistics.Target target : ClusterStatistics.Target.values()) {
			FunctionCounter.builder(PREFIX + "messages.published", this.statistics, (s) -> s.published(target))
				.tag("target", target.tag())
				.description("Messages this instance published to the other instances")
				.register(registry);
			FunctionCounter.builder(PREFIX + "messages.received", this.statistics, (s) -> s.received(target))
				.tag("target", target.tag())
				.description("Messages this instance received from other instances")
				.register(registry);
			FunctionCounter.builder(PREFIX + "messages.failed", this.statistics, (s) -> s.failed(target))
				.tag("target", target.tag())
				.description("Messages that could not be published: the sessions on other instances did not get them")
				.register(registry);
		}
		FunctionCounter.builder(PREFIX + "messages.invalid", this.statistics, ClusterStatistics::invalidReceived)
			.description("Messages on the cluster channels that were not a valid envelope, dropped")
			.register(registry);
		Timer latency = Timer.builder(PREFIX + "delivery.latency")
			.description("From the publish on one instance to the hand-over to the sessions of another")
			.publishPercentileHistogram()
			.register(registry);
		this.statistics.onLatency(latency::record);
	}

	private static double liveNodes(ClusterView view) {
		return view.nodes().size();
	}

}
