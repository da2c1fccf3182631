package io.resilientws.actuate.endpoint;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.resilientws.client.CloseEvent;
import io.resilientws.client.CloseInitiator;
import io.resilientws.client.ConnectionEvent;
import io.resilientws.client.ConnectionListener;
import io.resilientws.client.ConnectionRegistry;
import io.resilientws.client.ConnectionState;
import io.resilientws.client.ManagedConnection;
import org.jspecify.annotations.Nullable;

/**
 * The most recent state transitions of every connection, kept in a ring buffer per connection (the
 * oldest is dropped when it is full). A transition into {@code WAITING_TO_RECONNECT} or
 * {@code CLOSED} carries the close that caused it. Forgets a connection when it is removed.
 */
public final class TransitionHistory implements ConnectionListener {

	/** Transitions kept per connection unless told otherwise. */
	public static final int DEFAULT_SIZE = 50;

	private final int size;

	private final Map<String, ArrayDeque<Transition>> transitions = new ConcurrentHashMap<>();

	private TransitionHistory(int size) {
		if (size < 1) {
			throw new IllegalArgumentException("size must be at least 1");
		}
		this.size = size;
	}

	/** A history of the connections of {@code connections}, from now on, listening to it. */
	public static TransitionHistory of(ConnectionRegistry connections, int size) {
		TransitionHistory history = new TransitionHistory(size);
		connections.addListener(history);
		connections.all().forEach(history::connectionAdded);
		return history;
	}

	/** The transitions of a connection, oldest first; empty for an unknown name. */
	public List<Transition> transitions(String connection) {
		ArrayDeque<Transition> buffer = this.transitions.get(connection);
		if (buffer == null) {
			return List.of();
		}
		synchronized (buffer) {
			return List.copyOf(buffer);
		}
	}

	@Override
	public void connectionAdded(ManagedConnection connection) {
		this.transitions.putIfAbsent(connection.name(), new ArrayDeque<>(this.size));
	}

	@Override
	public void connectionRemoved(ManagedConnection connection) {
		this.transitions.remove(connection.name());
	}

	@Override
	public void onEvent(ConnectionEvent event) {
		ArrayDeque<Transition> buffer = this.transitions.get(event.connection());
		if (buffer == null) {
			return;
		}
		synchronized (buffer) {
			if (event instanceof ConnectionEvent.StateChanged changed) {
				if (buffer.size() == this.size) {
					buffer.removeFirst();
				}
				buffer.addLast(new Transition(changed.timestamp(), changed.from(), changed.to(), changed.attempt(),
						null));
			}
			else if (event instanceof ConnectionEvent.Closed closed) {
				// A close is published right after the transition it caused.
				Transition last = buffer.peekLast();
				if (last != null && last.close() == null && (last.to() == ConnectionState.WAITING_TO_RECONNECT
						|| last.to() == ConnectionState.CLOSED)) {
					buffer.removeLast();
					buffer.addLast(last.withClose(Close.of(closed.close())));
				}
			}
		}
	}

	/**
	 * One state transition.
	 *
	 * @param timestamp when it happened
	 * @param from the state before
	 * @param to the state after
	 * @param attempt the connect attempt number at the time
	 * @param close the close that caused a move to WAITING_TO_RECONNECT or CLOSED, else null
	 */
	public record Transition(Instant timestamp, ConnectionState from, ConnectionState to, int attempt,
			@Nullable Close close) {

		Transition withClose(Close close) {
			return new Transition(this.timestamp, this.from, this.to, this.attempt, close);
		}

	}

	/**
	 * How a connection closed.
	 *
	 * @param code the close code (1006 when there was no close frame)
	 * @param reason the close reason, or what failed
	 * @param initiator who ended it
	 * @param wasClean whether the close handshake completed
	 */
	public record Close(int code, String reason, CloseInitiator initiator, boolean wasClean) {

		static Close of(CloseEvent event) {
			return new Close(event.code(), event.reason(), event.initiator(), event.wasClean());
		}

	}

}
