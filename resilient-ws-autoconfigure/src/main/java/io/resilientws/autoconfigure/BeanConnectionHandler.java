package io.resilientws.autoconfigure;

import java.nio.ByteBuffer;

import io.resilientws.client.CloseEvent;
import io.resilientws.client.ConnectionHandler;
import io.resilientws.client.ManagedConnection;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.BeanFactory;

/**
 * Hands a connection's events to the handler bean named in its configuration, looked up on first use:
 * the handler bean may itself depend on the connection registry.
 */
final class BeanConnectionHandler implements ConnectionHandler {

	private final BeanFactory beanFactory;

	private final String beanName;

	private volatile @Nullable ConnectionHandler target;

	BeanConnectionHandler(BeanFactory beanFactory, String beanName) {
		this.beanFactory = beanFactory;
		this.beanName = beanName;
	}

	private ConnectionHandler target() {
		ConnectionHandler handler = this.target;
		if (handler == null) {
			handler = this.beanFactory.getBean(this.beanName, ConnectionHandler.class);
			this.target = handler;
		}
		return handler;
	}

	@Override
	public void onOpen(ManagedConnection connection) {
		target().onOpen(connection);
	}

	@Override
	public void onText(ManagedConnection connection, String text) {
		target().onText(connection, text);
	}

	@Override
	public void onBinary(ManagedConnection connection, ByteBuffer data) {
		target().onBinary(connection, data);
	}

	@Override
	public void onError(ManagedConnection connection, Throwable error) {
		target().onError(connection, error);
	}

	@Override
	public void onClose(ManagedConnection connection, CloseEvent event) {
		target().onClose(connection, event);
	}

	@Override
	public String toString() {
		return "handler bean '" + this.beanName + "'";
	}

}
