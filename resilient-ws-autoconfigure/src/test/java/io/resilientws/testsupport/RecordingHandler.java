package io.resilientws.testsupport;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.resilientws.client.CloseEvent;
import io.resilientws.client.ConnectionHandler;
import io.resilientws.client.ManagedConnection;

/**
 * A handler that remembers everything it was told, for assertions.
 */
public final class RecordingHandler implements ConnectionHandler {

	public final AtomicInteger opens = new AtomicInteger();

	public final List<String> messages = new CopyOnWriteArrayList<>();

	public final List<Throwable> errors = new CopyOnWriteArrayList<>();

	public final List<CloseEvent> closes = new CopyOnWriteArrayList<>();

	@Override
	public void onOpen(ManagedConnection connection) {
		this.opens.incrementAndGet();
	}

	@Override
	public void onText(ManagedConnection connection, String text) {
		this.messages.add(text);
	}

	@Override
	public void onBinary(ManagedConnection connection, ByteBuffer data) {
		this.messages.add("binary:" + StandardCharsets.UTF_8.decode(data));
	}

	@Override
	public void onError(ManagedConnection connection, Throwable error) {
		this.errors.add(error);
	}

	@Override
	public void onClose(ManagedConnection connection, CloseEvent event) {
		this.closes.add(event);
	}

	public CloseEvent lastClose() {
		return this.closes.get(this.closes.size() - 1);
	}

}
