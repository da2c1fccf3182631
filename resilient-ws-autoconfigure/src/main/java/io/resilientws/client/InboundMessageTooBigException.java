package io.resilientws.client;

import java.net.ProtocolException;

/** The server sent a frame larger than {@code inbound.max-message-size}; the transport has closed with 1009. */
final class InboundMessageTooBigException extends ProtocolException {

	InboundMessageTooBigException(String message) {
		super(message);
	}

}
