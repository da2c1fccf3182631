package io.resilientws.metrics;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.resilientws.server.CloseCause;
import io.resilientws.server.EndpointStatistics;
import io.resilientws.server.ManagedSession;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.SessionEvent;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;

/**
 * Meters of the server sessions, tagged {@code endpoint} with the path the endpoint is registered at
 * (never a session id or a URL). Counts the registry keeps per endpoint (open sessions, opened,
 * messages) are read when scraped; closes and overflows are counted from {@link SessionEvent}s; the
 * distribution of per-session buffered bytes is sampled every {@code sampleEvery} on the shared
 * scheduler (one pass over the sessions, a few comparisons each).
 */
public final class ServerSessionMetrics implements MeterBinder, Consumer<SessionEvent>, AutoCloseable {

	/** The prefix of every meter name. */
	public static final String PREFIX = "resilientws.server.";

	/** The tag that names the endpoint. */
	public static final String ENDPOINT_TAG = "endpoint";

	private final ServerSessionRegistry sessions;

	private final TaskScheduler scheduler;

	private final Duration sampleEvery;

	/** Endpoints whose scraped meters are registered. */
	private final Map<String, Boolean> bound = new ConcurrentHashMap<>();

	private volatile @Nullable MeterRegistry registry;

	private volatile @Nullable DistributionSummary sessionBuffered;

	private volatile boolean closed;

	public ServerSessionMetrics(ServerSessionRegistry sessions, TaskScheduler scheduler, Duration sampleEvery) {
		this.sessions = sessions;
		this.scheduler = scheduler;
		this.sampleEvery = sampleEvery;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		this.registry = registry;
		Gauge.builder(PREFIX + "buffered", this.sessions, ServerSessionMetrics::totalBuffered)
			.baseUnit(BaseUnits.BYTES)
			.description("Bytes accepted for all sessions and not yet written")
			.register(registry);
		Gauge.builder(PREFIX + "resume.unacknowledged", this.sessions, ServerSessionMetrics::totalUnacknowledged)
			.baseUnit(BaseUnits.BYTES)
			.description("Bytes written to resuming sessions' clients and not yet acknowledged (kept for a resume)")
			.register(registry);
		Gauge.builder(PREFIX + "resume.detached.now", this.sessions, ServerSessionRegistry::detachedCount)
			.baseUnit("sessions")
			.description("Resuming sessions waiting for their client to come back")
			.register(registry);
		this.sessionBuffered = DistributionSummary.builder(PREFIX + "session.buffered")
			.baseUnit(BaseUnits.BYTES)
			.description("Bytes buffered per session, sampled periodically: how close sessions come to send.buffer-limit")
			.register(registry);
		this.sessions.addListener(this);
		this.sessions.statistics().forEach(this::bindEndpoint);
		scheduleSample();
	}

	@Override
	public void accept(SessionEvent event) {
		MeterRegistry registry = this.registry;
		if (registry == null) {
			return;
		}
		if (event instanceof SessionEvent.Opened opened) {
			this.sessions.statistics()
				.stream()
				.filter((statistics) -> statistics.endpoint().equals(opened.endpoint()))
				.findFirst()
				.ifPresent(this::bindEndpoint);
		}
		else if (event instanceof SessionEvent.Closed closed) {
			Counter.builder(PREFIX + "closes")
				.tags(endpoint(closed.endpoint()))
				.tag("code", String.valueOf(closed.code()))
				.tag("cause", closed.cause().tag())
				.baseUnit("sessions")
				.description("Sessions closed, by close code and cause")
				.register(registry)
				.increment();
			if (closed.cause() == CloseCause.HEARTBEAT_TIMEOUT) {
				heartbeatTimeouts(registry, closed.endpoint()).increment();
			}
		}
		else if (event instanceof SessionEvent.Resumed resumed) {
			resumes(registry, resumed.endpoint(), "recovered").increment();
			Counter.builder(PREFIX + "resume.replayed")
				.tags(endpoint(resumed.endpoint()))
				.baseUnit(BaseUnits.MESSAGES)
				.description("Messages written again to a client that resumed its session without them")
				.register(registry)
				.increment(resumed.replayed());
		}
		else if (event instanceof SessionEvent.ResumeRefused refused) {
			resumes(registry, refused.endpoint(), refused.reason().name().toLowerCase(java.util.Locale.ROOT)).increment();
		}
		else if (event instanceof SessionEvent.Detached detached) {
			Counter.builder(PREFIX + "resume.detached")
				.tags(endpoint(detached.endpoint()))
				.baseUnit("sessions")
				.description("Resuming sessions that lost their connection and waited for their client")
				.register(registry)
				.increment();
		}
		else if (event instanceof SessionEvent.Overflow overflow) {
			Counter.builder(PREFIX + "send.overflows")
				.tags(endpoint(overflow.endpoint()))
				.tag("policy", ClientConnectionMetrics.lowerCase(overflow.policy()))
				.baseUnit("overflows")
				.description("Times a session's send buffer overflowed or its write stalled, by the policy applied")
				.register(registry)
				.increment();
		}
	}

	private void bindEndpoint(EndpointStatistics statistics) {
		MeterRegistry registry = this.registry;
		if (registry == null || this.bound.putIfAbsent(statistics.endpoint(), Boolean.TRUE) != null) {
			return;
		}
		Tags tags = endpoint(statistics.endpoint());
		Gauge.builder(PREFIX + "sessions", statistics, EndpointStatistics::openSessions)
			.tags(tags)
			.baseUnit("sessions")
			.description("Sessions open now")
			.register(registry);
		FunctionCounter.builder(PREFIX + "sessions.opened", statistics, EndpointStatistics::sessionsOpened)
			.tags(tags)
			.baseUnit("sessions")
			.description("Sessions opened")
			.register(registry);
		FunctionCounter.builder(PREFIX + "messages.sent", statistics, EndpointStatistics::messagesSent)
			.tags(tags)
			.baseUnit(BaseUnits.MESSAGES)
			.description("Messages written to sessions, answers to application-level pings included")
			.register(registry);
		FunctionCounter.builder(PREFIX + "messages.received", statistics, EndpointStatistics::messagesReceived)
			.tags(tags)
			.baseUnit(BaseUnits.MESSAGES)
			.description("Messages received from sessions, application-level pings included")
			.register(registry);
		FunctionCounter.builder(PREFIX + "inbound.paused", statistics, EndpointStatistics::inboundPauses)
			.tags(tags)
			.baseUnit("pauses")
			.description("Times a session stopped being read because a message it sent filled a healthy session's send buffer")
			.register(registry);
		// Present from the start, so that an alert on it sees 0 rather than nothing.
		heartbeatTimeouts(registry, statistics.endpoint());
	}

	/** Resume attempts by outcome: recovered, or the reason it was refused (a bounded set). */
	private static Counter resumes(MeterRegistry registry, String endpoint, String outcome) {
		return Counter.builder(PREFIX + "resumes")
			.tags(endpoint(endpoint))
			.tag("outcome", outcome)
			.baseUnit("resumes")
			.description("Clients that asked to resume a session, by outcome (recovered, expired, overflow, unknown, endpoint, principal, reused)")
			.register(registry);
	}

		private static Counter heartbeatTimeouts(MeterRegistry registry, String endpoint) {
		return Counter.builder(PREFIX + "heartbeat.timeouts")
			.tags(endpoint(endpoint))
			.baseUnit("sessions")
			.description("Sessions terminated because they did not answer a ping within heartbeat.timeout")
			.register(registry);
	}

	/** Stops sampling (the application context closes it). */
	@Override
	public void close() {
		this.closed = true;
	}

	private void scheduleSample() {
		if (this.closed) {
			return;
		}
		this.scheduler.schedule(() -> {
			DistributionSummary summary = this.sessionBuffered;
			if (summary != null) {
				for (ManagedSession session : this.sessions.sessions()) {
					summary.record(session.bufferedAmount());
				}
			}
			scheduleSample();
		}, this.scheduler.getClock().instant().plus(this.sampleEvery));
	}

	private static Tags endpoint(String path) {
		return Tags.of(ENDPOINT_TAG, path);
	}

	private static double totalUnacknowledged(ServerSessionRegistry sessions) {
		long total = 0;
		for (ManagedSession session : sessions.sessions()) {
			total += session.unacknowledgedBytes();
		}
		return total;
	}

	private static double totalBuffered(ServerSessionRegistry sessions) {
		long total = 0;
		for (ManagedSession session : sessions.sessions()) {
			total += session.bufferedAmount();
		}
		return total;
	}

}
