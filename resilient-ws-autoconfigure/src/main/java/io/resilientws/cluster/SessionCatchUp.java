package io.resilientws.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.resilientws.send.OutboundMessage;
import io.resilientws.server.ManagedSession;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * A session taken over from another instance gets what was published for it while no instance held it
 * (the publication log's part of {@link PublicationLog}): it subscribes to the session's channels, is
 * registered in catch-up mode together with the read of the log, and leaves catch-up mode with the
 * read's entries once the read's marker came back on this node's probe channel.
 */
final class SessionCatchUp {

	private static final Log logger = LogFactory.getLog(SessionCatchUp.class);

	private static final String MARKER = "caught-up ";

	private final RedisKeys keys;

	private final String nodeId;

	private final Duration timeout;

	private final ChannelSubscriptions subscriptions;

	private final PublicationLog log;

	private final RedisResumeStore store;

	/** Markers of reads under way, completed when they come back. */
	private final Map<String, CompletableFuture<Void>> markers = new ConcurrentHashMap<>();

	SessionCatchUp(RedisKeys keys, String nodeId, Duration timeout, ChannelSubscriptions subscriptions,
			PublicationLog log, RedisResumeStore store) {
		this.keys = keys;
		this.nodeId = nodeId;
		this.timeout = timeout;
		this.subscriptions = subscriptions;
		this.log = log;
		this.store = store;
	}

	/** @see io.resilientws.server.Fanout#adopt */
	boolean adopt(ManagedSession session, Runnable register) {
		List<String> channels = new ArrayList<>();
		channels.add(this.keys.sessionChannel(session.getId()));
		session.principalName().ifPresent((name) -> channels.add(this.keys.userChannel(name)));
		channels.forEach(this.subscriptions::acquire);
		String marker = MARKER + UUID.randomUUID();
		CompletableFuture<Void> markerSeen = new CompletableFuture<>();
		this.markers.put(marker, markerSeen);
		session.startCatchUp();
		try {
			// Subscribed first: from here on, what is published for the session reaches this instance.
			await(this.subscriptions.synced());
			CompletableFuture<List<Object>> read = this.log.registerAndRead(register,
					() -> this.store.readLog(session.getId(), session.endpoint(), session.principalName().orElse(null),
							this.keys.probeChannel(this.nodeId), marker));
			PublicationLog.Read answer = PublicationLog.Read.of(await(read));
			if (answer == null) {
				logger.info("Session " + session.getId() + " cannot be taken over whole: the cluster's publication log "
						+ "no longer has everything published for it since its instance left it");
				return failed(session, channels);
			}
			// Everything the read saw has reached this instance live too, once its marker is back.
			await(markerSeen);
			List<OutboundMessage> missed = missed(session, answer);
			session.endCatchUp(missed,
					(held) -> held.publication() == null || PublicationLog.newer(held.publication(), answer.top()));
			logger.info("Session " + session.getId() + " caught up with " + missed.size() + " of "
					+ answer.entries().size() + " cluster publications since its last instance left it");
			return true;
		}
		catch (TimeoutException | ExecutionException | RuntimeException ex) {
			logger.info("Session " + session.getId() + " cannot be taken over: the publication log could not be read ("
					+ RedisFanout.describe(ex) + ")");
			return failed(session, channels);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return failed(session, channels);
		}
		finally {
			this.markers.remove(marker);
		}
	}

	private boolean failed(ManagedSession session, List<String> channels) {
		session.endCatchUp(List.of(), (held) -> false);
		channels.forEach(this.subscriptions::release);
		return false;
	}

	// The read's entries that are for this session, each with its log id, in log order.
	private static List<OutboundMessage> missed(ManagedSession session, PublicationLog.Read answer) {
		List<OutboundMessage> missed = new ArrayList<>();
		for (PublicationLog.Entry entry : answer.entries()) {
			Envelope envelope = Envelope.decode(entry.envelope());
			if (envelope.selector().matches(session)) {
				missed.add(envelope.message().published(entry.id()));
			}
		}
		return missed;
	}

	private <T> T await(CompletableFuture<T> future) throws InterruptedException, ExecutionException, TimeoutException {
		return future.get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * A message on this node's probe channel.
	 * @return whether it was the marker of a read under way
	 */
	boolean markerSeen(String text) {
		CompletableFuture<Void> seen = this.markers.get(text);
		if (seen == null) {
			return false;
		}
		seen.complete(null);
		return true;
	}

}
