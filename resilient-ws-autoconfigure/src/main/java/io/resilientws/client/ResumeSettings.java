package io.resilientws.client;

import java.time.Duration;

/**
 * Session resume for a managed connection (docs/RESUME-PROTOCOL.md): {@code resume.*}.
 *
 * @param enabled whether the connection asks the server for a resumable session
 * ({@code rws-resume=1} on the URL)
 * @param bufferLimit most bytes of written, unacknowledged messages kept for a resend; past it the
 * session can no longer be resumed
 * @param helloTimeout how long the client waits after the handshake for the server's first message
 * before it treats the server as a plain WebSocket server (and, after {@code H}, for the session
 * answer before it drops the attempt)
 */
public record ResumeSettings(boolean enabled, long bufferLimit, Duration helloTimeout) {

	/** The default buffer limit: 1 MiB, as the server's {@code resume.buffer-limit}. */
	public static final long DEFAULT_BUFFER_LIMIT = 1024 * 1024;

	/** The protocol's hello timeout for reference clients. */
	public static final Duration DEFAULT_HELLO_TIMEOUT = Duration.ofSeconds(5);

}
