package io.resilientws.server;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the registry counts for one endpoint: cheap increments on the hot path, read by meters when they
 * are scraped.
 */
public final class EndpointStatistics {

	private final String endpoint;

	final AtomicInteger open = new AtomicInteger();

	final LongAdder opened = new LongAdder();

	final LongAdder messagesSent = new LongAdder();

	final LongAdder messagesReceived = new LongAdder();

	final LongAdder inboundPauses = new LongAdder();

	EndpointStatistics(String endpoint) {
		this.endpoint = endpoint;
	}

	/** The path the endpoint is registered at. */
	public String endpoint() {
		return this.endpoint;
	}

	/** Sessions open now. */
	public int openSessions() {
		return this.open.get();
	}

	/** Sessions opened since the application started. */
	public long sessionsOpened() {
		return this.opened.sum();
	}

	/** Messages written to this endpoint's sessions. */
	public long messagesSent() {
		return this.messagesSent.sum();
	}

	/** Messages received from this endpoint's sessions (application-level heartbeats included). */
	public long messagesReceived() {
		return this.messagesReceived.sum();
	}

	/**
	 * Times a session's reading was paused because a message it sent filled a healthy session's send
	 * buffer past half its limit ({@link InboundBackPressure}).
	 */
	public long inboundPauses() {
		return this.inboundPauses.sum();
	}

}
