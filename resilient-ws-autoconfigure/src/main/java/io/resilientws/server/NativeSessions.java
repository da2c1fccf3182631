package io.resilientws.server;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import io.resilientws.send.MessageWriter;
import io.resilientws.send.OutboundMessage;
import jakarta.websocket.CloseReason;
import jakarta.websocket.SendHandler;
import jakarta.websocket.Session;
import org.apache.tomcat.websocket.WsSession;
import org.jspecify.annotations.Nullable;

import org.springframework.util.ClassUtils;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.adapter.NativeWebSocketSession;

/**
 * What the server needs from the container beneath Spring's {@link WebSocketSession}: non-blocking
 * writes through the JSR-356 asynchronous remote endpoint, and dropping a dead connection without a
 * close handshake (Tomcat's public {@code WsSession.doClose(..., closeSocket)}), and suspending the
 * reading of a session ({@code WsSession.suspend()} / {@code resume()}) for {@link InboundBackPressure}.
 * Sessions of other kinds (SockJS, other containers) fall back to Spring's blocking API on the I/O
 * pool, and their reading cannot be suspended.
 */
final class NativeSessions {

	private static final boolean JAKARTA_PRESENT = ClassUtils.isPresent("jakarta.websocket.Session",
			NativeSessions.class.getClassLoader());

	private static final boolean TOMCAT_PRESENT = ClassUtils.isPresent("org.apache.tomcat.websocket.WsSession",
			NativeSessions.class.getClassLoader());

	/** Tomcat's per-session limit on blocking sends, which pings and close frames use. */
	private static final String BLOCKING_SEND_TIMEOUT = "org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT";

	private NativeSessions() {
	}

	static MessageWriter writer(WebSocketSession session, Executor pool) {
		Session jakarta = jakartaSession(session);
		if (jakarta != null) {
			return (message) -> {
				CompletableFuture<Void> written = new CompletableFuture<>();
				SendHandler completion = (result) -> {
					if (result.isOK()) {
						written.complete(null);
					}
					else {
						written.completeExceptionally(result.getException());
					}
				};
				if (message.isText()) {
					jakarta.getAsyncRemote().sendText(message.text(), completion);
				}
				else {
					jakarta.getAsyncRemote().sendBinary(message.binary(), completion);
				}
				return written;
			};
		}
		return (message) -> CompletableFuture.runAsync(() -> sendBlocking(session, message), pool);
	}

	/** Bounds how long a ping or close frame may wait for the socket (Tomcat waits 20 s by default). */
	static void limitBlockingSends(WebSocketSession session, Duration timeout) {
		Session jakarta = jakartaSession(session);
		if (jakarta != null) {
			jakarta.getUserProperties().put(BLOCKING_SEND_TIMEOUT, timeout.toMillis());
		}
	}

	/**
	 * Ends the session at once: the close frame gets one short try, then the socket is closed and the
	 * application's handler sees 1006. Blocks for at most Tomcat's abnormal-close send timeout (50 ms).
	 */
	static void terminate(WebSocketSession session, CloseStatus wireStatus) throws IOException {
		Session jakarta = jakartaSession(session);
		if (TOMCAT_PRESENT && Tomcat.terminate(jakarta, wireStatus)) {
			return;
		}
		session.close(wireStatus);
	}

	/**
	 * Stops reading the session's frames once the message being handled returns (Tomcat only).
	 * @return whether reading was suspended; false for sessions that cannot be
	 */
	static boolean suspend(WebSocketSession session) {
		return TOMCAT_PRESENT && Tomcat.suspend(jakartaSession(session));
	}

	/** Reads the session's frames again after {@link #suspend}. */
	static void resume(WebSocketSession session) {
		if (TOMCAT_PRESENT) {
			Tomcat.resume(jakartaSession(session));
		}
	}

	private static @Nullable Session jakartaSession(WebSocketSession session) {
		if (JAKARTA_PRESENT && session instanceof NativeWebSocketSession nativeSession) {
			return nativeSession.getNativeSession(Session.class);
		}
		return null;
	}

	private static void sendBlocking(WebSocketSession session, OutboundMessage message) {
		try {
			session.sendMessage(message.isText() ? new TextMessage(message.text()) : new BinaryMessage(message.binary()));
		}
		catch (IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
	}

	/** Kept apart so that the class loads only where Tomcat is present. */
	private static final class Tomcat {

		static boolean terminate(@Nullable Session session, CloseStatus wireStatus) {
			if (session instanceof WsSession wsSession) {
				CloseReason toPeer = new CloseReason(CloseReason.CloseCodes.getCloseCode(wireStatus.getCode()),
						wireStatus.getReason());
				CloseReason local = new CloseReason(CloseReason.CloseCodes.CLOSED_ABNORMALLY, wireStatus.getReason());
				wsSession.doClose(toPeer, local, true);
				return true;
			}
			return false;
		}

		static boolean suspend(@Nullable Session session) {
			if (session instanceof WsSession wsSession) {
				wsSession.suspend();
				return true;
			}
			return false;
		}

		static void resume(@Nullable Session session) {
			if (session instanceof WsSession wsSession) {
				wsSession.resume();
			}
		}

	}

}
