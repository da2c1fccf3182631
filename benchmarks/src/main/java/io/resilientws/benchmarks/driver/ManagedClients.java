package io.resilientws.benchmarks.driver;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

import io.resilientws.ResilientWsScheduler;
import io.resilientws.client.ConnectionEvent;
import io.resilientws.client.ConnectionHandler;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionSettings;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;

/**
 * resilient-ws managed client connections, outside a Spring context: a {@link ConnectionRegistry}
 * with its own scheduler, exactly as the auto-configuration builds it.
 */
public final class ManagedClients implements AutoCloseable {

	private final ResilientWsScheduler scheduler = ResilientWsScheduler.create();

	private final List<Consumer<ConnectionEvent>> listeners = new CopyOnWriteArrayList<>();

	private final ConnectionRegistry registry;

	private final List<ManagedConnection> connections = new ArrayList<>();

	public ManagedClients() {
		this.registry = new ConnectionRegistry(this.scheduler.taskScheduler(), (bundle) -> {
			throw new IllegalArgumentException("no SSL in benchmarks");
		}, (event) -> this.listeners.forEach((l) -> l.accept(event)), ConnectionSettings::builder,
				Duration.ofSeconds(10));
		this.registry.start();
	}

	public void onEvent(Consumer<ConnectionEvent> listener) {
		this.listeners.add(listener);
	}

	/**
	 * Registers (and so opens) {@code count} connections, at most {@code inFlight} connecting at a time,
	 * and waits until all are open.
	 */
	public List<ManagedConnection> open(int count, URI uri, ConnectionHandler handler,
			UnaryOperator<ConnectionSettings.Builder> settings, int inFlight, Duration limit) {
		List<ManagedConnection> opened = new ArrayList<>();
		long deadline = System.nanoTime() + limit.toNanos();
		for (int i = 0; i < count; i++) {
			while (connecting(opened) >= inFlight) {
				if (System.nanoTime() > deadline) {
					throw new IllegalStateException("connections not open within " + limit);
				}
				ServerProcess.sleep(2);
			}
			ConnectionSettings built = settings.apply(ConnectionSettings.builder().url(uri)).build();
			ManagedConnection connection = this.registry.register("c" + this.connections.size(), built, handler);
			this.connections.add(connection);
			opened.add(connection);
		}
		while (openCount(opened) < count) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException(openCount(opened) + " of " + count + " open within " + limit);
			}
			ServerProcess.sleep(5);
		}
		return opened;
	}

	private static long connecting(List<ManagedConnection> connections) {
		return connections.stream().filter((c) -> c.state() == ConnectionState.CONNECTING).count();
	}

	public static long openCount(List<ManagedConnection> connections) {
		return connections.stream().filter((c) -> c.state() == ConnectionState.OPEN).count();
	}

	public List<ManagedConnection> connections() {
		return this.connections;
	}

	/** Closes every connection with 1001 (as an application that stops), then frees the pools. */
	@Override
	public void close() {
		this.registry.stop();
		this.registry.destroy();
		this.scheduler.destroy();
	}

}
