package io.resilientws.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;

import io.resilientws.IoPool;
import io.resilientws.heartbeat.HeartbeatSweep;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.TaskScheduler;

/**
 * All managed client connections of the application, by name: those declared under
 * {@code resilient-ws.client.connections} and those {@link #register registered} at runtime.
 * <p>
 * As a {@link SmartLifecycle} it opens the connections marked auto-startup when the application
 * starts (after the web server, so a connection to the application itself finds it listening), and
 * closes every connection with 1001 when the application stops, before the web server shuts down;
 * no connection reconnects after that.
 * <p>
 * Owns the shared resources of all connections: the I/O pool their transports and callbacks run on.
 * The scheduler for heartbeats and reconnect timers is shared too, and passed in.
 * <p>
 * Observers (metrics, health, the actuator endpoint) {@link #addListener listen} to the connections
 * added, removed and to their events instead of looking into them.
 */
public class ConnectionRegistry implements SmartLifecycle, DisposableBean {

	private static final Log logger = LogFactory.getLog(ConnectionRegistry.class);

	private final TaskScheduler scheduler;

	private final HeartbeatSweep heartbeats;

	private final ExecutorService ioPool;

	private final NettyConnector connector;

	private final Consumer<ConnectionEvent> events;

	private final Supplier<ConnectionSettings.Builder> defaults;

	private final Duration shutdownTimeout;

	private final Map<String, ManagedConnection> connections = new ConcurrentHashMap<>();

	private final List<ConnectionListener> listeners = new CopyOnWriteArrayList<>();

	private volatile boolean running;

	/**
	 * @param scheduler the scheduler shared by all heartbeats and reconnect timers
	 * @param sslContexts the SSL context of an SSL bundle, by bundle name
	 * @param events receives every connection event (Spring application events); see also
	 * {@link #addListener}
	 * @param defaults a settings builder preset with the application's connection defaults
	 * @param shutdownTimeout how long {@link #stop} waits for connections to close
	 */
	public ConnectionRegistry(TaskScheduler scheduler, Function<String, SSLContext> sslContexts,
			Consumer<ConnectionEvent> events, Supplier<ConnectionSettings.Builder> defaults, Duration shutdownTimeout) {
		this(scheduler, sslContexts, events, defaults, shutdownTimeout, IoPool.create("resilient-ws-io-", false));
	}

	/**
	 * As above, with the I/O pool to use ({@link IoPool}); the registry owns it and shuts it down.
	 */
	public ConnectionRegistry(TaskScheduler scheduler, Function<String, SSLContext> sslContexts,
			Consumer<ConnectionEvent> events, Supplier<ConnectionSettings.Builder> defaults, Duration shutdownTimeout,
			ExecutorService ioPool) {
		this.scheduler = scheduler;
		this.heartbeats = new HeartbeatSweep(scheduler);
		this.ioPool = ioPool;
		this.connector = new NettyConnector(this.ioPool, sslContexts);
		this.events = events;
		this.defaults = defaults;
		this.shutdownTimeout = shutdownTimeout;
	}

	/** A settings builder preset with {@code resilient-ws.client.defaults}, for {@link #register}. */
	public ConnectionSettings.Builder settingsBuilder() {
		return this.defaults.get();
	}

	/**
	 * Adds a connection. It opens at once if the registry is running and the settings say auto-startup;
	 * otherwise call {@link ManagedConnection#start()}.
	 * @throws IllegalStateException if a connection with that name exists
	 */
	public ManagedConnection register(String name, ConnectionSettings settings, ConnectionHandler handler) {
		ManagedConnection connection = new ManagedConnection(name, settings, handler, this.scheduler, this.heartbeats, this.connector,
				this.ioPool, this::publish);
		if (this.connections.putIfAbsent(name, connection) != null) {
			throw new IllegalStateException("A connection named '" + name + "' is already registered");
		}
		notifyListeners((listener) -> listener.connectionAdded(connection));
		if (this.running && settings.autoStartup()) {
			connection.start();
		}
		return connection;
	}

	/** Closes (1000) and forgets a connection; false if there was none of that name. */
	public boolean remove(String name) {
		ManagedConnection connection = this.connections.remove(name);
		if (connection != null) {
			connection.close();
			notifyListeners((listener) -> listener.connectionRemoved(connection));
		}
		return connection != null;
	}

	/**
	 * Adds a listener. It is told about connections added and removed from now on, and about every
	 * event; connections registered before are in {@link #all()}.
	 */
	public void addListener(ConnectionListener listener) {
		this.listeners.add(listener);
	}

	public void removeListener(ConnectionListener listener) {
		this.listeners.remove(listener);
	}

	private void publish(ConnectionEvent event) {
		this.events.accept(event);
		notifyListeners((listener) -> listener.onEvent(event));
	}

	private void notifyListeners(Consumer<ConnectionListener> notification) {
		for (ConnectionListener listener : this.listeners) {
			try {
				notification.accept(listener);
			}
			catch (RuntimeException ex) {
				logger.warn("Connection listener " + listener + " failed", ex);
			}
		}
	}

	public Optional<ManagedConnection> find(String name) {
		return Optional.ofNullable(this.connections.get(name));
	}

	/** The connection of that name; fails with a list of the names there are. */
	public ManagedConnection get(String name) {
		ManagedConnection connection = this.connections.get(name);
		if (connection == null) {
			throw new IllegalArgumentException(
					"No connection named '" + name + "'; known connections: " + this.connections.keySet());
		}
		return connection;
	}

	public Collection<ManagedConnection> all() {
		return List.copyOf(this.connections.values());
	}

	@Override
	public void start() {
		this.running = true;
		this.connections.values()
			.stream()
			.filter((connection) -> connection.settings().autoStartup())
			.forEach(ManagedConnection::start);
	}

	@Override
	public void stop() {
		stopConnections().join();
	}

	@Override
	public void stop(Runnable callback) {
		stopConnections().whenComplete((ignored, failure) -> callback.run());
	}

	private CompletableFuture<Void> stopConnections() {
		this.running = false;
		List<CompletableFuture<Void>> closing = new ArrayList<>();
		for (ManagedConnection connection : this.connections.values()) {
			closing.add(connection.shutdown());
		}
		return CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new))
			.completeOnTimeout(null, this.shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public void destroy() {
		this.running = false;
		this.connections.values().forEach(ManagedConnection::shutdown);
		this.connector.close();
		this.ioPool.shutdown();
		try {
			if (!this.ioPool.awaitTermination(1, TimeUnit.SECONDS)) {
				this.ioPool.shutdownNow();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		logger.debug("Closed " + this.connections.size() + " connections");
	}

}
