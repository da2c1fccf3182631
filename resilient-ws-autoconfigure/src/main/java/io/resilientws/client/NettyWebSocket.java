package io.resilientws.client;

import java.io.IOException;
import java.net.ProtocolException;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLException;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * One connect attempt and its connection over Netty, seen through the JDK's {@link WebSocket} API that
 * the state machine speaks. It keeps the parts of the JDK's contract the state machine relies on:
 * <ul>
 * <li>The listener is called on the channel's event loop, one call at a time; {@code onText},
 * {@code onBinary}, {@code onPing} and {@code onPong} each only after a {@link #request} asked for
 * it, and reading stops while nothing is asked for (back-pressure onto the socket). {@code onClose}
 * and {@code onError} come in order after what arrived before them, whatever the demand, and nothing
 * comes after them.</li>
 * <li>A ping is answered with a pong at once, and a peer's close with a close.</li>
 * <li>A connection that ends without a close frame is {@code onClose(1006, "")}.</li>
 * <li>A frame that breaks the protocol ends the connection with the close code for it (1002, 1007)
 * and reaches {@code onError} as a {@link ProtocolException}; a frame over the size limit reaches it
 * as an {@link InboundMessageTooBigException}, and the state machine closes with 1009.</li>
 * <li>A handshake the server refuses fails the attempt with a {@link HandshakeRefusedException} that
 * keeps the status and headers (for {@code Retry-After}).</li>
 * </ul>
 * What the listener receives is copied out of Netty's buffers, so nothing here is reference-counted
 * beyond the read that produced it.
 * <p>
 * Longer than most classes here because it is both halves of one connection, which the JDK splits
 * into {@code WebSocket} and its {@code Listener}: the read side and the write side share the close
 * state (nothing is written after a close frame, a peer's close is answered once).
 */
final class NettyWebSocket extends ChannelInboundHandlerAdapter implements WebSocket {

	private static final int MANDATORY_EXTENSION = 1010;

	private final WebSocketClientHandshaker handshaker;

	private final int maxFramePayload;

	private final List<String> offeredSubprotocols;

	private final WebSocket.Listener listener;

	private final CompletableFuture<WebSocket> opened;

	private volatile @Nullable Channel channel;

	/** Set once the handshake succeeded: from then on, failures are the connection's, not the attempt's. */
	private volatile boolean upgraded;

	private volatile String subprotocol = "";

	/** Messages the listener asked for and has not received yet. */
	private final AtomicLong demand = new AtomicLong();

	private volatile boolean outputClosed;

	private volatile boolean inputClosed;

	/** Set by {@link #abort}: the listener hears nothing more. */
	private volatile boolean aborted;

	// ---- inbound: touched on the event loop only ----

	/** What was read and waits for the listener's demand (at most one read's worth: reading stops). */
	private final Queue<Inbound> pending = new ArrayDeque<>();

	/** Set once onClose or onError was delivered. */
	private boolean ended;

	private boolean delivering;

	/** Whether a continuation frame continues a text message (else a binary one). */
	private boolean continuingText;

	/** Decodes a text message across its frames (a character may be split between two). */
	private final Utf8Fragments text = new Utf8Fragments();

	// ---- outbound: whether the message under way continues (the state machine sends one at a time) ----

	private volatile boolean textContinues;

	private volatile boolean binaryContinues;

	NettyWebSocket(WebSocketClientHandshaker handshaker, List<String> offeredSubprotocols, WebSocket.Listener listener,
			CompletableFuture<WebSocket> opened) {
		this.handshaker = handshaker;
		this.maxFramePayload = handshaker.maxFramePayloadLength();
		this.offeredSubprotocols = offeredSubprotocols;
		this.listener = listener;
		this.opened = opened;
	}

	// ---- the attempt ----

	/** The TCP connection could not be made, or the attempt's time is up: the attempt fails. */
	void attemptFailed(Throwable failure) {
		if (this.opened.completeExceptionally(asTlsFailure(failure))) {
			Channel current = this.channel;
			if (current != null) {
				current.close();
			}
		}
	}

	@Override
	public void handlerAdded(ChannelHandlerContext ctx) {
		this.channel = ctx.channel();
	}

	@Override
	public void channelActive(ChannelHandlerContext ctx) {
		this.handshaker.handshake(ctx.channel()).addListener((future) -> {
			if (!future.isSuccess()) {
				attemptFailed(future.cause());
			}
		});
		ctx.fireChannelActive();
	}

	@Override
	public void channelRead(ChannelHandlerContext ctx, Object message) {
		try {
			if (!this.upgraded) {
				if (message instanceof HttpResponse response && !this.opened.isDone()) {
					handshakeAnswered(ctx, response);
				}
			}
			else if (message instanceof WebSocketFrame frame && !this.inputClosed) {
				read(ctx, frame);
			}
		}
		finally {
			ReferenceCountUtil.release(message);
		}
	}

	private void handshakeAnswered(ChannelHandlerContext ctx, HttpResponse response) {
		if (response.decoderResult().isFailure()) {
			// Not HTTP: described by its class, as every connect failure; the text goes to onError only.
			attemptFailed(new ProtocolException("invalid handshake response: " + response.decoderResult().cause().getMessage()));
			return;
		}
		int status = response.status().code();
		if (status != 101) {
			attemptFailed(new HandshakeRefusedException(status, response.headers()));
			return;
		}
		String protocol = response.headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
		if (protocol != null && !this.offeredSubprotocols.contains(protocol.trim())) {
			attemptFailed(HandshakeRefusedException.invalidUpgrade("a subprotocol that was not offered"));
			return;
		}
		try {
			// The subprotocol is checked above: Netty would refuse a server that picks none of several.
			io.netty.handler.codec.http.HttpHeaders headers = response.headers().copy()
				.remove(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
			this.handshaker.finishHandshake(ctx.channel(), new DefaultFullHttpResponse(response.protocolVersion(),
					response.status(), Unpooled.EMPTY_BUFFER, headers, EmptyHttpHeaders.INSTANCE));
		}
		catch (WebSocketHandshakeException invalid) {
			// Netty's message quotes the response's headers: onError gets it as the cause, the reason does not.
			HandshakeRefusedException refused = HandshakeRefusedException.invalidUpgrade(
					"not a WebSocket upgrade (Upgrade, Connection or Sec-WebSocket-Accept)");
			refused.initCause(invalid);
			attemptFailed(refused);
			return;
		}
		// Netty's decoder would send its close frame past the encoder: one that leaves closing to this class.
		ctx.pipeline().replace("ws-decoder", "ws-decoder", new WebSocket13FrameDecoder(WebSocketDecoderConfig.newBuilder()
			.expectMaskedFrames(false)
			.allowExtensions(false)
			.maxFramePayloadLength(this.maxFramePayload)
			.closeOnProtocolViolation(false)
			.build()));
		this.subprotocol = (protocol != null) ? protocol.trim() : "";
		this.upgraded = true;
		ctx.channel().config().setAutoRead(false);
		this.listener.onOpen(this);
		if (!this.opened.complete(this)) {
			// Timed out a moment ago.
			ctx.channel().close();
		}
	}

	// ---- inbound ----

	private void read(ChannelHandlerContext ctx, WebSocketFrame frame) {
		boolean last = frame.isFinalFragment();
		if (frame instanceof TextWebSocketFrame || (frame instanceof ContinuationWebSocketFrame && this.continuingText)) {
			this.continuingText = !last;
			String part;
			try {
				part = this.text.decode(frame.content().nioBuffer(), last);
			}
			catch (CharacterCodingException invalid) {
				protocolViolated(ctx, WebSocketCloseStatus.INVALID_PAYLOAD_DATA, "invalid UTF-8 in a text message");
				return;
			}
			this.pending.add(new Inbound.Text(part, last));
		}
		else if (frame instanceof BinaryWebSocketFrame || frame instanceof ContinuationWebSocketFrame) {
			this.pending.add(new Inbound.Binary(copy(frame.content()), last));
		}
		else if (frame instanceof PingWebSocketFrame) {
			if (!this.outputClosed) {
				ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retainedDuplicate()));
			}
			this.pending.add(new Inbound.Ping(copy(frame.content())));
		}
		else if (frame instanceof PongWebSocketFrame) {
			this.pending.add(new Inbound.Pong(copy(frame.content())));
		}
		else if (frame instanceof CloseWebSocketFrame close) {
			if (close.statusCode() == MANDATORY_EXTENSION) {
				// A client's code (RFC 6455 7.4.1), which no server may send; Netty's decoder lets it through.
				protocolViolated(ctx, WebSocketCloseStatus.PROTOCOL_ERROR, "close code 1010 from a server");
				return;
			}
			this.inputClosed = true;
			int code = (close.statusCode() == -1) ? 1005 : close.statusCode();
			String reason = (close.statusCode() == -1) ? "" : close.reasonText();
			this.pending.add(new Inbound.Close(code, reason));
		}
	}

	private static ByteBuffer copy(ByteBuf content) {
		return ByteBuffer.wrap(ByteBufUtil.getBytes(content));
	}

	/** A rule broken that Netty's decoder does not see (invalid UTF-8): the same end as one it sees. */
	private void protocolViolated(ChannelHandlerContext ctx, WebSocketCloseStatus status, String description) {
		this.inputClosed = true;
		if (!this.outputClosed) {
			this.outputClosed = true;
			ctx.writeAndFlush(new CloseWebSocketFrame(status, description)).addListener(ChannelFutureListener.CLOSE);
		}
		else {
			ctx.close();
		}
		this.pending.add(new Inbound.Failure(new ProtocolException(description)));
	}

	@Override
	public void channelReadComplete(ChannelHandlerContext ctx) {
		deliver();
		ctx.fireChannelReadComplete();
	}

	@Override
	public void channelInactive(ChannelHandlerContext ctx) {
		if (!this.upgraded) {
			attemptFailed(new IOException("connection closed before the handshake response"));
		}
		else if (!this.inputClosed) {
			// No close frame arrived: the JDK's way of saying so, which the state machine reads as a loss.
			this.inputClosed = true;
			this.pending.add(new Inbound.Close(CloseEvent.ABNORMAL_CLOSURE, ""));
		}
		this.outputClosed = true;
		deliver();
		ctx.fireChannelInactive();
	}

	@Override
	public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
		if (!this.upgraded) {
			attemptFailed(cause);
			return;
		}
		if (this.inputClosed) {
			ctx.close();
			return;
		}
		if (cause instanceof CorruptedWebSocketFrameException corrupted
				&& corrupted.closeStatus().code() == WebSocketCloseStatus.MESSAGE_TOO_BIG.code()) {
			// The state machine closes with 1009; the server's answer is not read (the decoder is done).
			this.inputClosed = true;
			this.pending.add(new Inbound.Failure(new InboundMessageTooBigException(corrupted.getMessage())));
		}
		else if (cause instanceof CorruptedWebSocketFrameException corrupted) {
			protocolViolated(ctx, corrupted.closeStatus(), corrupted.getMessage());
		}
		else {
			this.inputClosed = true;
			ctx.close();
			this.pending.add(new Inbound.Failure(cause));
		}
		deliver();
	}

	/** Netty's name for a server that does not speak TLS, told as the JDK's (failure descriptions name it). */
	private static Throwable asTlsFailure(Throwable failure) {
		for (Throwable t = failure; t != null; t = t.getCause()) {
			if (t instanceof NotSslRecordException) {
				return new SSLException("not a TLS record", t);
			}
			if (t instanceof SSLException tls) {
				return tls;
			}
		}
		return failure;
	}

	/** Hands the listener what it asked for, in order, and reads more once it has taken everything. */
	private void deliver() {
		if (this.delivering) {
			return;
		}
		this.delivering = true;
		try {
			while (!this.ended && !this.aborted && !this.pending.isEmpty()) {
				Inbound next = this.pending.peek();
				boolean terminal = next instanceof Inbound.Close || next instanceof Inbound.Failure;
				if (!terminal) {
					if (this.demand.get() == 0) {
						break;
					}
					this.demand.decrementAndGet();
				}
				this.pending.poll();
				dispatch(next);
			}
			Channel current = this.channel;
			if (!this.ended && this.pending.isEmpty() && this.demand.get() > 0 && current != null && current.isActive()) {
				current.read();
			}
		}
		finally {
			this.delivering = false;
		}
	}

	private void dispatch(Inbound next) {
		if (next instanceof Inbound.Text text) {
			this.listener.onText(this, text.part(), text.last());
		}
		else if (next instanceof Inbound.Binary binary) {
			this.listener.onBinary(this, binary.part(), binary.last());
		}
		else if (next instanceof Inbound.Ping ping) {
			this.listener.onPing(this, ping.data());
		}
		else if (next instanceof Inbound.Pong pong) {
			this.listener.onPong(this, pong.data());
		}
		else if (next instanceof Inbound.Close close) {
			this.ended = true;
			this.listener.onClose(this, close.code(), close.reason());
			answerClose(close.code());
		}
		else if (next instanceof Inbound.Failure failure) {
			this.ended = true;
			this.listener.onError(this, failure.error());
		}
	}

	/** The peer closed: answer with its code (or 1000 where its code may not be sent), then end the TCP connection. */
	private void answerClose(int code) {
		Channel current = this.channel;
		if (current == null) {
			return;
		}
		if (this.outputClosed || !current.isActive()) {
			current.close();
			return;
		}
		this.outputClosed = true;
		int answer = WebSocketCloseStatus.isValidStatusCode(code) ? code : WebSocketCloseStatus.NORMAL_CLOSURE.code();
		current.writeAndFlush(new CloseWebSocketFrame(answer, "")).addListener((future) -> current.close());
	}

	// ---- the WebSocket API ----

	@Override
	public void request(long n) {
		if (n <= 0) {
			throw new IllegalArgumentException("request(" + n + ")");
		}
		this.demand.getAndUpdate((current) -> (Long.MAX_VALUE - current < n) ? Long.MAX_VALUE : current + n);
		Channel current = this.channel;
		if (current != null) {
			onEventLoop(current, this::deliver);
		}
	}

	@Override
	public CompletableFuture<WebSocket> sendText(CharSequence data, boolean last) {
		String text = data.toString();
		boolean continues = this.textContinues;
		this.textContinues = !last;
		return send(continues ? new ContinuationWebSocketFrame(last, 0, text) : new TextWebSocketFrame(last, 0, text));
	}

	@Override
	public CompletableFuture<WebSocket> sendBinary(ByteBuffer data, boolean last) {
		ByteBuf bytes = Unpooled.wrappedBuffer(data.duplicate());
		boolean continues = this.binaryContinues;
		this.binaryContinues = !last;
		return send(continues ? new ContinuationWebSocketFrame(last, 0, bytes) : new BinaryWebSocketFrame(last, 0, bytes));
	}

	@Override
	public CompletableFuture<WebSocket> sendPing(ByteBuffer message) {
		return send(new PingWebSocketFrame(Unpooled.wrappedBuffer(message.duplicate())));
	}

	@Override
	public CompletableFuture<WebSocket> sendPong(ByteBuffer message) {
		return send(new PongWebSocketFrame(Unpooled.wrappedBuffer(message.duplicate())));
	}

	@Override
	public CompletableFuture<WebSocket> sendClose(int statusCode, String reason) {
		if (!WebSocketCloseStatus.isValidStatusCode(statusCode)) {
			return CompletableFuture.failedFuture(new IllegalArgumentException("close code " + statusCode));
		}
		Channel current = this.channel;
		CompletableFuture<WebSocket> sent = new CompletableFuture<>();
		if (current == null) {
			sent.completeExceptionally(new IOException("not connected"));
			return sent;
		}
		onEventLoop(current, () -> {
			if (this.outputClosed) {
				sent.complete(this);
				return;
			}
			this.outputClosed = true;
			current.writeAndFlush(new CloseWebSocketFrame(statusCode, reason)).addListener((future) -> {
				if (this.inputClosed) {
					// Both closes are through: the TCP connection has done its job.
					current.close();
				}
				completeWith(sent, future.cause());
			});
		});
		return sent;
	}

	/** Writes on the event loop, so that nothing goes out after the close frame. */
	private CompletableFuture<WebSocket> send(WebSocketFrame frame) {
		Channel current = this.channel;
		CompletableFuture<WebSocket> sent = new CompletableFuture<>();
		if (current == null) {
			frame.release();
			sent.completeExceptionally(new IOException("not connected"));
			return sent;
		}
		onEventLoop(current, () -> {
			if (this.outputClosed) {
				frame.release();
				sent.completeExceptionally(new IOException("output closed"));
				return;
			}
			current.writeAndFlush(frame).addListener((future) -> completeWith(sent, future.cause()));
		});
		return sent;
	}

	/** Runs {@code task} on the channel's event loop: at once when already there (no hop per message). */
	private static void onEventLoop(Channel channel, Runnable task) {
		if (channel.eventLoop().inEventLoop()) {
			task.run();
		}
		else {
			channel.eventLoop().execute(task);
		}
	}

	private void completeWith(CompletableFuture<WebSocket> sent, @Nullable Throwable failure) {
		if (failure == null) {
			sent.complete(this);
		}
		else {
			sent.completeExceptionally((failure instanceof IOException) ? failure : new IOException(failure));
		}
	}

	@Override
	public String getSubprotocol() {
		return this.subprotocol;
	}

	@Override
	public boolean isOutputClosed() {
		return this.outputClosed;
	}

	@Override
	public boolean isInputClosed() {
		return this.inputClosed;
	}

	@Override
	public void abort() {
		this.aborted = true;
		this.inputClosed = true;
		this.outputClosed = true;
		Channel current = this.channel;
		if (current != null) {
			current.close();
		}
	}

	/** What was read, waiting for the listener. */
	private sealed interface Inbound {

		record Text(String part, boolean last) implements Inbound {
		}

		record Binary(ByteBuffer part, boolean last) implements Inbound {
		}

		record Ping(ByteBuffer data) implements Inbound {
		}

		record Pong(ByteBuffer data) implements Inbound {
		}

		record Close(int code, String reason) implements Inbound {
		}

		record Failure(Throwable error) implements Inbound {
		}

	}

}
