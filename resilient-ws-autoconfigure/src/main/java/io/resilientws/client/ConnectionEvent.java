package io.resilientws.client;

import java.time.Instant;

/**
 * What a managed connection tells its observers: metrics, health, the endpoint and Spring's
 * application events all read these, never the connection's internals. Each event is published
 * as a Spring application event (listen with {@code @EventListener}).
 */
public sealed interface ConnectionEvent permits ConnectionEvent.StateChanged, ConnectionEvent.Closed {

	/** The name of the connection. */
	String connection();

	/** When it happened. */
	Instant timestamp();

	/**
	 * The connection moved from one state to another.
	 *
	 * @param attempt the number of the current connect attempt since the last stable open
	 */
	record StateChanged(String connection, Instant timestamp, ConnectionState from, ConnectionState to,
			int attempt) implements ConnectionEvent {
	}

	/** The connection closed or a connect attempt failed. */
	record Closed(String connection, Instant timestamp, CloseEvent close) implements ConnectionEvent {
	}

}
