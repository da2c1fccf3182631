package io.resilientws.client;

import java.io.ByteArrayOutputStream;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;

import io.resilientws.heartbeat.Heartbeat;
import io.resilientws.heartbeat.HeartbeatMode;
import io.resilientws.heartbeat.HeartbeatSettings;
import io.resilientws.send.OutboundMessage;
import org.jspecify.annotations.Nullable;

/**
 * The listener of one connect attempt (the JDK's listener interface, which {@link NettyWebSocket} calls). Assembles fragmented messages, answers the heartbeat, and
 * asks for the next frame only after the handler has taken the current message (back-pressure onto
 * the socket). It asks for the first frame only when the connection tells it to
 * ({@link ManagedConnection} does so once the attempt is OPEN and its {@code onOpen} is queued), so no
 * message can overtake {@code onOpen}.
 */
final class TransportListener implements WebSocket.Listener {

	/** What the listener reports to the state machine. */
	interface Owner {

		void remoteClosed(int generation, int code, String reason);

		void transportFailed(int generation, Throwable failure);

		/** A message went over {@code inbound.max-message-size}; the listener drops what follows. */
		void messageTooBig(int generation, WebSocket webSocket);

	}

	private final int generation;

	private final ConnectionSettings settings;

	private final ManagedConnection connection;

	private final CallbackDispatcher callbacks;

	private final ConnectionStatistics statistics;

	private final Owner owner;

	/** With resume, where whole messages go (it unwraps, counts and hands them over); null otherwise. */
	private final @Nullable ClientResume resume;

	private volatile @Nullable Heartbeat heartbeat;

	private final StringBuilder text = new StringBuilder();

	private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

	/** Bytes of the message being assembled; only touched by the transport's serial listener calls. */
	private long messageSize;

	/** Set once a message went over the limit: everything after it is read and dropped. */
	private boolean tooBig;

	TransportListener(int generation, ConnectionSettings settings, ManagedConnection connection,
			CallbackDispatcher callbacks, ConnectionStatistics statistics, Owner owner, @Nullable ClientResume resume) {
		this.generation = generation;
		this.settings = settings;
		this.connection = connection;
		this.callbacks = callbacks;
		this.statistics = statistics;
		this.owner = owner;
		this.resume = resume;
	}

	int generation() {
		return this.generation;
	}

	void heartbeat(Heartbeat heartbeat) {
		this.heartbeat = heartbeat;
	}

	@Override
	public void onOpen(WebSocket webSocket) {
		// No request(1) here: the connection asks for the first frame once it is OPEN.
	}

	@Override
	public @Nullable CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
		frameReceived();
		String part = data.toString();
		if (!withinLimit(webSocket, OutboundMessage.utf8Length(part), last)) {
			return null;
		}
		this.text.append(part);
		if (!last) {
			webSocket.request(1);
			return null;
		}
		String message = this.text.toString();
		this.text.setLength(0);
		HeartbeatSettings heartbeatSettings = this.settings.heartbeat();
		if (heartbeatSettings.mode() == HeartbeatMode.TEXT && message.equals(heartbeatSettings.pongText())) {
			pongReceived();
			webSocket.request(1);
			return null;
		}
		if (this.resume != null) {
			this.resume.text(this.generation, message);
			return null;
		}
		this.statistics.countReceived(OutboundMessage.utf8Length(message));
		this.callbacks.handlerThen((h) -> h.onText(this.connection, message), () -> webSocket.request(1));
		return null;
	}

	@Override
	public @Nullable CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
		frameReceived();
		if (!withinLimit(webSocket, data.remaining(), last)) {
			return null;
		}
		byte[] chunk = new byte[data.remaining()];
		data.get(chunk);
		this.binary.writeBytes(chunk);
		if (!last) {
			webSocket.request(1);
			return null;
		}
		ByteBuffer message = ByteBuffer.wrap(this.binary.toByteArray()).asReadOnlyBuffer();
		this.binary.reset();
		if (this.resume != null) {
			this.resume.binary(this.generation, message);
			return null;
		}
		this.statistics.countReceived(message.remaining());
		this.callbacks.handlerThen((h) -> h.onBinary(this.connection, message), () -> webSocket.request(1));
		return null;
	}

	@Override
	public @Nullable CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
		frameReceived();
		webSocket.request(1);
		return null;
	}

	@Override
	public @Nullable CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
		if (this.settings.heartbeat().mode() == HeartbeatMode.FRAME) {
			pongReceived();
		}
		else {
			frameReceived();
		}
		webSocket.request(1);
		return null;
	}

	@Override
	public @Nullable CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
		this.owner.remoteClosed(this.generation, statusCode, reason);
		return null;
	}

	@Override
	public void onError(WebSocket webSocket, Throwable error) {
		if (error instanceof InboundMessageTooBigException) {
			// One frame over the limit, refused by the transport before it was buffered.
			this.owner.messageTooBig(this.generation, webSocket);
			return;
		}
		this.owner.transportFailed(this.generation, error);
	}

	/**
	 * Adds a fragment to the size of the message under way. Over the limit, the message assembled so
	 * far is dropped, so no more than the limit is ever held, and the connection ends.
	 */
	private boolean withinLimit(WebSocket webSocket, long fragmentSize, boolean last) {
		if (this.tooBig) {
			// Keep reading, so that the server's answer to the close frame can arrive.
			webSocket.request(1);
			return false;
		}
		this.messageSize += fragmentSize;
		if (this.messageSize <= this.settings.maxMessageSize()) {
			if (last) {
				this.messageSize = 0;
			}
			return true;
		}
		this.tooBig = true;
		this.text.setLength(0);
		this.text.trimToSize();
		this.binary.reset();
		this.owner.messageTooBig(this.generation, webSocket);
		webSocket.request(1);
		return false;
	}

	private void frameReceived() {
		Heartbeat beat = this.heartbeat;
		if (beat != null) {
			beat.frameReceived();
		}
	}

	private void pongReceived() {
		Heartbeat beat = this.heartbeat;
		if (beat != null) {
			beat.pongReceived();
		}
	}

}
