package io.resilientws.server;

import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

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

/**
 * What a resuming session does with what its client sends (docs/RESUME-PROTOCOL.md §2, §4): takes the
 * client's acknowledgements, undoes the escape of data messages, counts them and acknowledges them in
 * time (the delay on the shared scheduler, never a thread of its own).
 */
final class ResumeReceiver {

	private final SessionResume resume;

	private final OutboundQueue outbound;

	private final TaskScheduler scheduler;

	private final String sessionId;

	private final ResumeStore store;

	private final Executor pool;

	/** The highest count acknowledged to the client: stored counts may come back out of order. */
	private final AtomicLong acknowledgedToClient = new AtomicLong();

	ResumeReceiver(SessionResume resume, OutboundQueue outbound, TaskScheduler scheduler, String sessionId,
			ResumeStore store, Executor pool) {
		this.resume = resume;
		this.outbound = outbound;
		this.scheduler = scheduler;
		this.sessionId = sessionId;
		this.store = store;
		this.pool = pool;
	}

	/**
	 * @return the message for the application's handler (unescaped), or null for an acknowledgement
	 * @throws ResumeProtocolException when the message breaks the protocol
	 */
	@Nullable WebSocketMessage<?> received(WebSocketMessage<?> message) {
		WebSocketMessage<?> data;
		if (message instanceof TextMessage text) {
			ResumeWire.Inbound inbound = ResumeWire.read(text.getPayload());
			if (inbound instanceof ResumeWire.Inbound.Control control) {
				if (!(control.frame() instanceof ResumeFrame.Ack ack)) {
					throw new ResumeProtocolException("an unexpected control message");
				}
				this.outbound.acknowledge(ack.received());
				this.store.acknowledged(this.sessionId, ack.received());
				return null;
			}
			String payload = ((ResumeWire.Inbound.Data) inbound).text();
			data = (payload.length() == text.getPayloadLength()) ? text : new TextMessage(payload);
		}
		else if (message instanceof BinaryMessage binary) {
			ByteBuffer payload = ResumeWire.read(binary.getPayload());
			data = (payload.remaining() == binary.getPayloadLength()) ? binary : new BinaryMessage(payload);
		}
		else {
			// Pings and pongs are not data messages.
			return message;
		}
		acknowledgeLater(this.resume.dataReceived(data.getPayloadLength()));
		return data;
	}

	private void acknowledgeLater(SessionResume.AckDecision decision) {
		String ack = decision.ack();
		if (ack != null && !this.store.shared()) {
			this.outbound.offerControl(OutboundMessage.control(ack));
		}
		else if (ack != null) {
			// Stored before it is acknowledged: an instance that takes the session over must not ask the
			// client for less than it was told the session has. Sent also if Redis fails (the store then
			// marks the session as not resumable elsewhere): this instance can still resume it.
			long count = decision.acknowledges();
			this.store.received(this.sessionId, count).whenCompleteAsync((ignored, failure) -> {
				if (this.acknowledgedToClient.getAndAccumulate(count, Math::max) < count) {
					this.outbound.offerControl(OutboundMessage.control(ack));
				}
			}, this.pool);
		}
		if (decision.timerNanos() >= 0) {
			this.scheduler.schedule(() -> acknowledgeLater(this.resume.ackTimerFired()),
					this.scheduler.getClock().instant().plusNanos(decision.timerNanos()));
		}
	}

}
