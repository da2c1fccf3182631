package io.resilientws.client;

import java.util.function.Consumer;

import io.resilientws.send.SerialExecutor;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Hands one connection's callbacks, events, log lines and delivery outcomes to its serial queue over
 * the shared pool, in the order they are submitted. Submitting only enqueues (the pool never runs a
 * task on the submitting thread), so the state machine submits under its lock, which keeps them in
 * the order of its transitions, and they run after it is released.
 */
final class CallbackDispatcher {

	private static final Log logger = LogFactory.getLog(ManagedConnection.class);

	private final ManagedConnection connection;

	private final ConnectionHandler handler;

	private final Consumer<ConnectionEvent> events;

	private final SerialExecutor serial;

	CallbackDispatcher(ManagedConnection connection, ConnectionHandler handler, Consumer<ConnectionEvent> events,
			SerialExecutor serial) {
		this.connection = connection;
		this.handler = handler;
		this.events = events;
		this.serial = serial;
	}

	/** The serial queue itself, where delivery futures run their stages. */
	SerialExecutor executor() {
		return this.serial;
	}

	void handler(Consumer<ConnectionHandler> callback) {
		this.serial.execute(() -> invoke(callback));
	}

	/** Calls the handler, then {@code after} even if the handler failed (asks for the next message). */
	void handlerThen(Consumer<ConnectionHandler> callback, Runnable after) {
		this.serial.execute(() -> {
			try {
				invoke(callback);
			}
			finally {
				after.run();
			}
		});
	}

	void event(ConnectionEvent event) {
		this.serial.execute(() -> this.events.accept(event));
	}

	/**
	 * Logs in callback order. Control characters are escaped: messages carry text from the peer (its
	 * close reason) and from the transport, which must not start forged log lines.
	 */
	void log(String message) {
		if (logger.isInfoEnabled()) {
			String name = this.connection.name();
			this.serial.execute(() -> logger.info(SafeText.escape("Connection '" + name + "' " + message)));
		}
	}

	void run(Runnable task) {
		this.serial.execute(task);
	}

	private void invoke(Consumer<ConnectionHandler> callback) {
		try {
			callback.accept(this.handler);
		}
		catch (RuntimeException ex) {
			logger.error("Handler of connection '" + this.connection.name() + "' failed", ex);
			try {
				this.handler.onError(this.connection, ex);
			}
			catch (RuntimeException ignored) {
				// Already logged once; a failing onError must not stop the callbacks that follow.
			}
		}
	}

}
