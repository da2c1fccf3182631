package io.resilientws.sample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A plain JDK WebSocket client on the sample's {@code /chat}: what it receives, and how it was closed. */
final class ChatPeer implements WebSocket.Listener, AutoCloseable {

	private final BlockingQueue<String> texts = new LinkedBlockingQueue<>();

	private final CompletableFuture<Integer> closeCode = new CompletableFuture<>();

	private final StringBuilder partial = new StringBuilder();

	private WebSocket socket;

	static ChatPeer connect(int port) {
		ChatPeer peer = new ChatPeer();
		peer.socket = HttpClient.newHttpClient()
			.newWebSocketBuilder()
			.buildAsync(URI.create("ws://127.0.0.1:" + port + "/chat"), peer)
			.join();
		return peer;
	}

	void send(String text) {
		this.socket.sendText(text, true).join();
	}

	/** The next message, within 10 s. */
	String nextText() throws InterruptedException {
		String text = this.texts.poll(10, TimeUnit.SECONDS);
		assertThat(text).as("a message within 10 s").isNotNull();
		return text;
	}

	/** Every message received so far, taken out. */
	List<String> drain() {
		List<String> received = new ArrayList<>();
		this.texts.drainTo(received);
		return received;
	}

	int received() {
		return this.texts.size();
	}

	/** The close code, within 10 s. */
	int closeCode() throws Exception {
		return this.closeCode.get(10, TimeUnit.SECONDS);
	}

	@Override
	public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
		this.partial.append(data);
		if (last) {
			this.texts.add(this.partial.toString());
			this.partial.setLength(0);
		}
		webSocket.request(1);
		return null;
	}

	@Override
	public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
		this.closeCode.complete(statusCode);
		return null;
	}

	@Override
	public void onError(WebSocket webSocket, Throwable error) {
		this.closeCode.completeExceptionally(error);
	}

	@Override
	public void close() {
		this.socket.abort();
	}

}
