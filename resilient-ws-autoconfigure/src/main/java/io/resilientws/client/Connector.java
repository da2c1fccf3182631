package io.resilientws.client;

import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;

/** Opens one WebSocket connection attempt: the seam between the state machine and the transport. */
interface Connector {

	/**
	 * Starts connecting without blocking. {@code listener} receives the connection's frames once it is
	 * open and the connection asks for them.
	 */
	CompletableFuture<WebSocket> connect(ConnectionSettings settings, WebSocket.Listener listener);

}
