package io.resilientws.server;

import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;

import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeFrame.RefusalReason;
import io.resilientws.resume.ResumeProtocolException;
import io.resilientws.resume.ResumeWire;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.WebSocketMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The registry's part of session resume on one instance (docs/RESUME-PROTOCOL.md §1, §3, §5): greets a
 * connection that asks for it, answers its {@code N} or {@code R}, keeps the sessions' tokens, and
 * ends a detached session when its window passes.
 * <p>
 * Tokens are credentials: they are only ever compared and written to their own client, never logged
 * or shown; the log names sessions by id.
 */
final class SessionResumption {

	private static final Log logger = LogFactory.getLog(SessionResumption.class);

	/** Attribute of a connection that was greeted and has not answered yet. */
	private static final String GREETED = SessionResumption.class.getName() + ".greeted";

	/** Attribute of a connection whose answer was refused: its handler never heard of it, nor hears of its close. */
	private static final String TURNED_AWAY = SessionResumption.class.getName() + ".turnedAway";

	/** How long a greeted connection may take to answer. */
	static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);

	/** How many ended sessions' tokens are remembered, to refuse them with the reason rather than "unknown". */
	private static final int REMEMBERED_ENDINGS = 10_000;

	private final ServerSessionRegistry registry;

	private final ServerSettings.Resume settings;

	private final SecureRandom random = new SecureRandom();

	/** Live and detached sessions by their current token. */
	private final Map<String, ManagedSession> byToken = new ConcurrentHashMap<>();

	/** Sessions by a token they were resumed with before: presenting it again is a reuse. */
	private final Map<String, ManagedSession> byUsedToken = new ConcurrentHashMap<>();

	/** Tokens whose session this instance is taking over from another one right now. */
	private final java.util.Set<String> takingOver = ConcurrentHashMap.newKeySet();

	/** Sessions detached now: counted as they detach, resume and end, not searched for. */
	private final java.util.concurrent.atomic.AtomicInteger detachedNow = new java.util.concurrent.atomic.AtomicInteger();

	/** Why recently ended sessions ended, by their last token; bounded, oldest forgotten first. */
	private final Map<String, RefusalReason> endings = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, false) {
		@Override
		protected boolean removeEldestEntry(Map.Entry<String, RefusalReason> eldest) {
			return size() > REMEMBERED_ENDINGS;
		}
	});

	SessionResumption(ServerSessionRegistry registry, ServerSettings.Resume settings) {
		this.registry = registry;
		this.settings = settings;
	}

	/** Whether this connection asked for resume and the server offers it. */
	boolean requested(WebSocketSession connection) {
		if (!this.settings.enabled() || connection.getUri() == null) {
			return false;
		}
		String version = UriComponentsBuilder.fromUri(connection.getUri()).build().getQueryParams()
			.getFirst(ResumeWire.QUERY_PARAMETER);
		return ResumeWire.VERSION.equals(version);
	}

	/** Greets a new connection with {@code H}; its handler hears of it once the client has answered. */
	void greet(WebSocketSession connection, String endpoint, WebSocketHandler handler) {
		ScheduledFuture<?> timeout = this.registry.scheduler().schedule(
				() -> unanswered(connection), this.registry.scheduler().getClock().instant().plus(ANSWER_TIMEOUT));
		connection.getAttributes().put(GREETED, new Greeted(endpoint, handler, timeout));
		try {
			// On the container's thread, before any answer is read: the session's own writes (its answer
			// S first) must not start while this one is in progress, which Tomcat refuses. Three bytes
			// on a new connection do not wait for the socket.
			connection.sendMessage(new TextMessage(ResumeWire.write(new ResumeFrame.Hello())));
		}
		catch (IOException | RuntimeException ex) {
			logger.debug("Greeting connection " + connection.getId() + " failed", ex);
		}
	}

	/** Whether this connection was greeted and its answer is still awaited. */
	static boolean awaitsAnswer(WebSocketSession connection) {
		return connection.getAttributes().get(GREETED) instanceof Greeted;
	}

	/** The closed connection was greeted and never answered: nothing to tell anyone. */
	static boolean neverAnswered(WebSocketSession connection) {
		if (connection.getAttributes().remove(GREETED) instanceof Greeted greeted) {
			greeted.timeout().cancel(false);
			return true;
		}
		return connection.getAttributes().remove(TURNED_AWAY) != null;
	}

	/**
	 * The client's answer to {@code H}: starts a new session or resumes one.
	 * @throws Exception what the application's handler threw when told of a new session
	 */
	void answered(WebSocketSession connection, WebSocketMessage<?> message) throws Exception {
		Greeted greeted = (Greeted) connection.getAttributes().remove(GREETED);
		if (greeted == null) {
			return;
		}
		greeted.timeout().cancel(false);
		ResumeFrame answer;
		try {
			if (!(message instanceof TextMessage text)
					|| !(ResumeWire.read(text.getPayload()) instanceof ResumeWire.Inbound.Control control)) {
				throw new ResumeProtocolException("the client's first message is not N or R");
			}
			answer = control.frame();
		}
		catch (ResumeProtocolException ex) {
			refuseConnection(connection, ex);
			return;
		}
		if (answer instanceof ResumeFrame.New) {
			startSession(connection, greeted, null);
		}
		else if (answer instanceof ResumeFrame.Resume resume) {
			resume(connection, greeted, resume);
		}
		else {
			refuseConnection(connection, new ResumeProtocolException("the client's first message is not N or R"));
		}
	}

	private void resume(WebSocketSession connection, Greeted greeted, ResumeFrame.Resume request) throws Exception {
		ManagedSession session = this.byToken.get(request.token());
		if (session == null) {
			ManagedSession reusedFrom = this.byUsedToken.get(request.token());
			if (reusedFrom != null) {
				// Two holders of one session's token: one of them is not its owner, so it ends for both.
				logger.info("Session " + reusedFrom.getId() + " was resumed with a token used before; ending it");
				reusedFrom.close(new CloseStatus(1008, "resume token reused"));
				startSession(connection, greeted, RefusalReason.REUSED);
				return;
			}
			RefusalReason ended = this.endings.get(request.token());
			if (ended == null && this.registry.resumeStore().shared()) {
				takeOver(connection, greeted, request);
				return;
			}
			startSession(connection, greeted, (ended != null) ? ended : RefusalReason.UNKNOWN);
			return;
		}
		if (!session.endpoint().equals(greeted.endpoint())) {
			startSession(connection, greeted, RefusalReason.ENDPOINT);
			return;
		}
		if (!Objects.equals(principalName(connection), session.principalName().orElse(null))) {
			startSession(connection, greeted, RefusalReason.PRINCIPAL);
			return;
		}
		if (!this.byToken.remove(request.token(), session)) {
			// Another connection resumed it a moment ago with the same token: this one is the reuse.
			startSession(connection, greeted, RefusalReason.REUSED);
			return;
		}
		ManagedSession.Resumed resumed;
		try {
			resumed = session.resumeOn(connection, request.token(), request.received());
		}
		catch (ResumeProtocolException ex) {
			// The client claims messages the session never sent: it is not this session's client.
			logger.debug("Resume of session " + session.getId() + " refused", ex);
			// Checked before anything changed: the token the liar presented still resumes it for its owner.
			this.byToken.put(request.token(), session);
			refuseConnection(connection, ex);
			return;
		}
		if (resumed == null) {
			RefusalReason ended = this.endings.get(request.token());
			startSession(connection, greeted, (ended != null) ? ended : RefusalReason.UNKNOWN);
			return;
		}
		if (resumed.wasDetached()) {
			this.detachedNow.decrementAndGet();
		}
		if (resumed.displaced() != null) {
			this.byToken.remove(resumed.displaced(), session);
			this.byUsedToken.put(resumed.displaced(), session);
		}
		// The presented token stays good until the client shows it got the new one (it may lose this S).
		this.byToken.put(request.token(), session);
		this.byToken.put(resumed.token(), session);
		this.registry.resumeStore().tokens(session.getId(), resumed.token(), request.token());
		this.registry.publish(new SessionEvent.Resumed(session.getId(), session.endpoint(), resumed.replayed(),
				this.registry.scheduler().getClock().instant()));
	}

	private void startSession(WebSocketSession connection, Greeted greeted, @Nullable RefusalReason refused)
			throws Exception {
		if (refused != null) {
			this.registry.publish(new SessionEvent.ResumeRefused(greeted.endpoint(), refused,
					this.registry.scheduler().getClock().instant()));
		}
		SessionResume resume = new SessionResume(greeted.handler(), this::nanoTime, this.random);
		this.registry.resumeStore().started(connection.getId(), greeted.endpoint(), principalName(connection),
				resume.token());
		ManagedSession session = this.registry.opened(connection, greeted.endpoint(), resume,
				resume.newSessionAnswer(refused));
		this.byToken.put(resume.token(), session);
		greeted.handler().afterConnectionEstablished(session);
	}

	/**
	 * Cluster mode: a token this instance does not know may be of a session another instance held until
	 * it was killed or drained (docs/RESUME-PROTOCOL.md §7). Taken over, the session goes on here with the
	 * same id and everything its client lacks; held by a live instance, the client is asked to try again
	 * (1013) rather than told its session is lost.
	 */
	private void takeOver(WebSocketSession connection, Greeted greeted, ResumeFrame.Resume request) throws Exception {
		// A client that gave up waiting and came back while its first takeover is still under way here must
		// not take the session over a second time: it tries again, and then finds the session here.
		if (!this.takingOver.add(request.token())) {
			closeQuietly(connection, new CloseStatus(1013, "session being taken over"));
			return;
		}
		try {
			takeOver(connection, greeted, request, ResumeWire.newToken(this.random));
		}
		finally {
			this.takingOver.remove(request.token());
		}
	}

	private void takeOver(WebSocketSession connection, Greeted greeted, ResumeFrame.Resume request, String token)
			throws Exception {
		ResumeStore.Takeover takeover = this.registry.resumeStore().takeOver(request.token(), greeted.endpoint(),
				principalName(connection), request.received(), token);
		switch (takeover.outcome()) {
			case TAKEN -> {
				SessionResume resume = SessionResume.takenOver(greeted.handler(), this::nanoTime, this.random, token,
						request.token(), takeover.clientReceived());
				ManagedSession session = this.registry.opened(connection, greeted.endpoint(), resume,
						resume.takenOverAnswer(), takeover, request.received());
				if (session == null) {
					// Not everything published for it meanwhile can be had: not recovered, never in part.
					this.registry.resumeStore().ended(takeover.sessionId());
					startSession(connection, greeted, RefusalReason.OVERFLOW);
					return;
				}
				this.byToken.put(token, session);
				this.byToken.put(request.token(), session);
				logger.info("Session " + session.getId() + " was taken over from another instance ("
						+ takeover.unacknowledged().size() + " messages to write again)");
				this.registry.publish(new SessionEvent.Resumed(session.getId(), session.endpoint(),
						takeover.unacknowledged().size(), this.registry.scheduler().getClock().instant()));
				greeted.handler().afterConnectionEstablished(session);
			}
			case HELD -> closeQuietly(connection, new CloseStatus(1013, "session held by another instance"));
			case INVALID -> refuseConnection(connection,
					new ResumeProtocolException("the client's count is not one of its session's"));
			case REUSED -> startSession(connection, greeted, RefusalReason.REUSED);
			case ENDPOINT -> startSession(connection, greeted, RefusalReason.ENDPOINT);
			case PRINCIPAL -> startSession(connection, greeted, RefusalReason.PRINCIPAL);
			case OVERFLOW -> startSession(connection, greeted, RefusalReason.OVERFLOW);
			default -> startSession(connection, greeted, RefusalReason.UNKNOWN);
		}
	}

	private void refuseConnection(WebSocketSession connection, Exception why) {
		logger.debug("Connection " + connection.getId() + " broke the resume protocol: " + why.getMessage());
		closeQuietly(connection, CloseStatus.PROTOCOL_ERROR);
	}

	private void unanswered(WebSocketSession connection) {
		if (connection.getAttributes().get(GREETED) instanceof Greeted) {
			closeQuietly(connection, new CloseStatus(1008, "no answer to the resume greeting"));
		}
	}

	private void closeQuietly(WebSocketSession connection, CloseStatus status) {
		connection.getAttributes().put(TURNED_AWAY, Boolean.TRUE);
		this.registry.pool().execute(() -> {
			try {
				connection.close(status);
			}
			catch (IOException | RuntimeException ex) {
				logger.debug("Closing connection " + connection.getId() + " failed", ex);
			}
		});
	}

	/** A session whose connection was lost waits until the window has passed. */
	void detached(ManagedSession session, SessionResume resume) {
		java.time.Instant at = this.registry.scheduler().getClock().instant().plus(this.settings.window());
		ScheduledFuture<?> expiry = this.registry.scheduler().schedule(
				() -> this.registry.endDetached(session, RefusalReason.EXPIRED, null), at);
		resume.expiresWith(expiry, at);
		this.detachedNow.incrementAndGet();
		this.registry.publish(new SessionEvent.Detached(session.getId(), session.endpoint(),
				this.registry.scheduler().getClock().instant()));
		if (detachedCount() > this.settings.maxDetached()) {
			// Bounded in number too, not only in time: the one that has waited longest goes first.
			this.byToken.values().stream()
				.filter(ManagedSession::isDetached)
				.min(java.util.Comparator.comparing((detached) -> detached.detachedUntil().orElse(at)))
				.ifPresent((oldest) -> this.registry.endDetached(oldest, RefusalReason.EXPIRED, null));
		}
	}

	/** The client of a resumed session showed it has its newest token: {@code token} is done with. */
	void confirmed(ManagedSession session, String token) {
		this.byToken.remove(token, session);
		this.byUsedToken.put(token, session);
		SessionResume resume = session.resume();
		if (resume != null) {
			this.registry.resumeStore().tokens(session.getId(), resume.token(), null);
		}
	}

	/** A resuming session ended for good: its tokens resume nothing any more. */
	void ended(ManagedSession session, SessionResume resume, RefusalReason why) {
		for (String token : resume.goodTokens()) {
			this.byToken.remove(token, session);
			this.endings.put(token, why);
		}
		for (String used : resume.usedTokens()) {
			this.byUsedToken.remove(used, session);
		}
		if (!session.isHandedOver()) {
			this.registry.resumeStore().ended(session.getId());
		}
	}

	// The registry's clock (monotonic in production, manual in tests) in nanoseconds, for the
	// acknowledgement delay: timers and their deadlines must read the same clock.
	private long nanoTime() {
		java.time.Instant now = this.registry.scheduler().getClock().instant();
		return now.getEpochSecond() * 1_000_000_000L + now.getNano();
	}

	/** How many sessions are detached, waiting for their clients. */
	long detachedCount() {
		return this.detachedNow.get();
	}

	/** A detached session ended without its client. */
	void detachedEnded() {
		this.detachedNow.decrementAndGet();
	}

	private static @Nullable String principalName(WebSocketSession connection) {
		return (connection.getPrincipal() != null) ? connection.getPrincipal().getName() : null;
	}

	/** A greeted connection: where it connected, and the handler to tell once it has answered. */
	private record Greeted(String endpoint, WebSocketHandler handler, ScheduledFuture<?> timeout) {
	}

}
