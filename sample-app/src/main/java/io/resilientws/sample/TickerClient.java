package io.resilientws.sample;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.resilientws.client.CloseEvent;
import io.resilientws.client.ConnectionEvent;
import io.resilientws.client.ConnectionHandler;
import io.resilientws.client.ManagedConnection;
import io.resilientws.send.SendResult;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The client side of the sample: the handler of the managed connection {@code ticker}
 * (application.yml names this bean as its {@code handler}). It says hello on every open, counts the
 * ticks it receives and logs everything else.
 */
@Component
public class TickerClient implements ConnectionHandler {

	private static final Log logger = LogFactory.getLog(TickerClient.class);

	private final AtomicLong ticks = new AtomicLong();

	private final AtomicReference<String> lastTick = new AtomicReference<>();

	private final AtomicReference<String> lastEcho = new AtomicReference<>();

	@Override
	public void onOpen(ManagedConnection connection) {
		logger.info("Connection '" + connection.name() + "' is open (attempt " + connection.attempt() + ")");
		SendResult result = connection.send("hello from " + connection.name());
		if (!result.isAccepted()) {
			logger.warn("Hello was not accepted: " + result.rejection().orElseThrow());
		}
	}

	@Override
	public void onText(ManagedConnection connection, String text) {
		if (text.startsWith("tick ")) {
			long count = this.ticks.incrementAndGet();
			this.lastTick.set(text);
			logger.info("Connection '" + connection.name() + "' received " + text + " (" + count + " so far)");
		}
		else {
			if (text.startsWith("echo: ")) {
				this.lastEcho.set(text);
			}
			logger.info("Connection '" + connection.name() + "' received " + text);
		}
	}

	@Override
	public void onError(ManagedConnection connection, Throwable error) {
		logger.warn("Connection '" + connection.name() + "' failed: " + error);
	}

	@Override
	public void onClose(ManagedConnection connection, CloseEvent event) {
		logger.info("Connection '" + connection.name() + "' closed: " + event.code() + " " + event.reason() + " ("
				+ event.initiator() + ", " + (event.willReconnect()
						? "attempt " + event.nextAttempt() + " at " + event.nextAttemptAt() : "no reconnect")
				+ ")");
	}

	/** Every managed connection's state changes also arrive as application events. */
	@EventListener
	void onStateChanged(ConnectionEvent.StateChanged event) {
		logger.info("Connection '" + event.connection() + "': " + event.from() + " -> " + event.to());
	}

	/** The number of ticks received since the application started, across reconnects. */
	public long tickCount() {
		return this.ticks.get();
	}

	/** The latest tick, such as {@code tick 42 2026-11-22T11:00:00Z}. */
	public Optional<String> lastTick() {
		return Optional.ofNullable(this.lastTick.get());
	}

	/** The latest echo of something this client sent. */
	public Optional<String> lastEcho() {
		return Optional.ofNullable(this.lastEcho.get());
	}

}
