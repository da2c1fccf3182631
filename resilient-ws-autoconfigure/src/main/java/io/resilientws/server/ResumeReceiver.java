package io.resilientws.server;

import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeProtocolException;
import io.resilientws.resume.ResumeWire;
import io.resilientws.send.OutboundMessage;
import io.resilientws.send.OutboundQueue;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketMessage;
import org.springframework.web.socket.WebSocketSession;

/**
 * What a resuming session does with what its client sends (docs/RESUME-PROTOCOL.md §2, §4): takes the
 * client's acknowledgements, undoes the escape of data messages, counts them and acknowledges them in
 * time (the delay on the shared scheduler, never a thread of its own).
 */
final class ResumeReceiver {

	private final SessionResume resume;

	private final OutboundQueue outbound;

	private final TaskScheduler scheduler;

	/** The session's journal in cluster mode (null otherwise): acknowledgements wait for it. */
	private final Supplier<@Nullable SessionJournal> journal;

	private final Executor pool;

	/** The highest count acknowledged to the client: stored counts may come back out of order. */
	private final AtomicLong acknowledgedToClient = new AtomicLong();

	ResumeReceiver(SessionResume resume, OutboundQueue outbound, TaskScheduler scheduler,
			Supplier<@Nullable SessionJournal> journal, Executor pool) {
		this.resume = resume;
		// A session taken over starts from what the store had, which its answer told the client.
		this.acknowledgedToClient.set(resume.handledCount());
		this.outbound = outbound;
		this.scheduler = scheduler;
		this.journal = journal;
		this.pool = pool;
	}

	/**
	 * The most client messages a resume's answer may count: in cluster mode what was acknowledged, which
	 * the store has; else all that arrived.
	 */
	long answerable() {
		return (this.journal.get() != null) ? this.acknowledgedToClient.get() : Long.MAX_VALUE;
	}

	/**
	 * @param connection the connection {@code message} came over
	 * @return the message for the application's handler (unescaped), or null for an acknowledgement, a
	 * resend of a message the handler has (after a resume on this instance in cluster mode), or a data
	 * message of a connection a resume has replaced
	 * @throws ResumeProtocolException when the message breaks the protocol
	 */
	@Nullable WebSocketMessage<?> received(WebSocketSession connection, WebSocketMessage<?> message) {
		WebSocketMessage<?> data;
		if (message instanceof TextMessage text) {
			ResumeWire.Inbound inbound = ResumeWire.read(text.getPayload());
			if (inbound instanceof ResumeWire.Inbound.Control control) {
				if (!(control.frame() instanceof ResumeFrame.Ack ack)) {
					throw new ResumeProtocolException("an unexpected control message");
				}
				this.outbound.acknowledge(ack.received());
				peerAcknowledged(ack.received());
				return null;
			}
			String payload = ((ResumeWire.Inbound.Data) inbound).text();
			data = (payload.length() == text.getPayload().length()) ? text : new TextMessage(payload);
		}
		else if (message instanceof BinaryMessage binary) {
			ByteBuffer payload = ResumeWire.read(binary.getPayload());
			data = (payload.remaining() == binary.getPayloadLength()) ? binary : new BinaryMessage(payload);
		}
		else {
			// Pings and pongs are not data messages.
			return message;
		}
		SessionResume.AckDecision decision = this.resume.dataReceived(connection,
				(int) Math.min(Integer.MAX_VALUE, OutboundMessage.payloadLength(data)));
		if (decision == null) {
			// A resend of what the handler has (after a resume on this instance in cluster mode), or a
			// message of a replaced connection, which the client sends again on its new one.
			return null;
		}
		acknowledgeLater(decision);
		return data;
	}

	/**
	 * Cluster mode: acknowledges the messages whose handling has finished (one still being handled goes
	 * with the next acknowledgement), once the store has their count, which it stores after everything
	 * the handler sent while handling them. An instance that takes the session over then asks the client
	 * for every message whose effects it does not have, and for no other. Sent also when the store
	 * failed (it then marks the session as not resumable elsewhere): this instance can still resume it.
	 */
	private void acknowledgeHandled(SessionJournal lane) {
		long count = this.resume.handledCount();
		if (count <= this.acknowledgedToClient.get()) {
			return;
		}
		lane.handled(count, this.outbound.acceptedSeq()).whenCompleteAsync((ignored, failure) -> {
			if (this.acknowledgedToClient.getAndAccumulate(count, Math::max) < count) {
				this.outbound.offerControl(OutboundMessage.control(ResumeWire.write(new ResumeFrame.Ack(count))));
			}
		}, this.pool);
	}

	/**
	 * The handler is done with {@code message} (what {@link #received} returned for it). Only cluster
	 * mode counts it (nothing else reads the count): the new count is stored right after what the
	 * handler sent, so if this instance dies, the one that takes the session over asks the client again
	 * for at most the messages handled within the last round trip to the store.
	 */
	void handled(WebSocketMessage<?> message) {
		SessionJournal lane = this.journal.get();
		if (lane != null && (message instanceof TextMessage || message instanceof BinaryMessage)) {
			lane.handledNow(this.resume.handled(), this.outbound.acceptedSeq());
		}
	}

	/** The handler is about to handle {@code message}. */
	void handling(WebSocketMessage<?> message) {
		SessionJournal lane = this.journal.get();
		if (lane != null && (message instanceof TextMessage || message instanceof BinaryMessage)) {
			lane.handling();
		}
	}

	/** The client has {@code count} of the session's messages (an {@code A}, or the count of its {@code R}). */
	void peerAcknowledged(long count) {
		SessionJournal lane = this.journal.get();
		if (lane != null) {
			lane.acknowledged(count, this.outbound.acknowledgedSeq());
		}
	}

	private void acknowledgeLater(SessionResume.AckDecision decision) {
		String ack = decision.ack();
		SessionJournal lane = this.journal.get();
		if (ack != null && lane == null) {
			this.outbound.offerControl(OutboundMessage.control(ack));
		}
		else if (ack != null) {
			acknowledgeHandled(lane);
		}
		if (decision.timerNanos() >= 0) {
			this.scheduler.schedule(() -> acknowledgeLater(this.resume.ackTimerFired()),
					this.scheduler.getClock().instant().plusNanos(decision.timerNanos()));
		}
	}

}
