package io.resilientws.testsupport;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.resilientws.resume.ResumeFrame;
import io.resilientws.resume.ResumeWire;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The test client of the resume protocol against a server whose every frame the test writes, so that
 * the orders a real server produces only under load (an answer that comes after the client gave its
 * attempt up) happen every time.
 */
class ResumeProtocolClientTest {

	private static final SecureRandom RANDOM = new SecureRandom();

	/**
	 * ClusterJarIT gives an attempt up after 5 s without an answer and tries again; a takeover that took
	 * longer (Redis and the catch-up slow under load) answered the abandoned connection after the client
	 * had sent its next {@code R}. The client took that answer, made the old connection its own again
	 * and counted its messages, which the next answer's replay (from the count its {@code R} had said)
	 * then brought a second time: the page held a run of lines twice.
	 */
	@Test
	void anAnswerOnAnAttemptGivenUpIsNotTakenAndItsMessagesAreNotCounted() throws Exception {
		try (ScriptedServer server = new ScriptedServer()) {
			CompletableFuture<ResumeProtocolClient> opening = CompletableFuture
				.supplyAsync(() -> ResumeProtocolClient.open(server.url()));
			ScriptedConnection first = server.next();
			assertThat(first.nextText()).isEqualTo(ResumeWire.write(new ResumeFrame.New()));
			String token = ResumeWire.newToken(RANDOM);
			first.send(ResumeWire.write(new ResumeFrame.Session(token, 0, false, null)));
			try (ResumeProtocolClient client = opening.get(10, TimeUnit.SECONDS)) {
				List.of("d1", "d2", "d3").forEach(first::send);
				await().atMost(Duration.ofSeconds(10)).until(() -> client.received.size() == 3);

				// An attempt the server does not answer in time...
				client.attemptResume(server.url());
				ScriptedConnection late = server.next();
				assertThat(late.nextText()).isEqualTo(ResumeWire.write(new ResumeFrame.Resume(token, 3)));
				// ...is given up for the next one, which says the client has 3 messages.
				CompletableFuture<ResumeFrame.Session> resumed = client.attemptResume(server.url());
				ScriptedConnection next = server.next();
				assertThat(next.nextText()).isEqualTo(ResumeWire.write(new ResumeFrame.Resume(token, 3)));

				// The late answer comes now, with messages 4 and 5.
				late.send(ResumeWire.write(new ResumeFrame.Session(ResumeWire.newToken(RANDOM), 0, true, null)));
				late.send("d4");
				late.send("d5");
				await().atMost(Duration.ofSeconds(10))
					.until(() -> client.received.contains("d5") || !late.isOpen());

				// The next attempt's answer resumes after the 3 its R counted: 4 and 5 again.
				String newest = ResumeWire.newToken(RANDOM);
				next.send(ResumeWire.write(new ResumeFrame.Session(newest, 0, true, null)));
				next.send("d4");
				next.send("d5");
				next.send("d6");
				await().atMost(Duration.ofSeconds(10)).until(() -> client.received.contains("d6"));
				assertThat(client.received).containsExactly("d1", "d2", "d3", "d4", "d5", "d6");
				assertThat(resumed.get(10, TimeUnit.SECONDS).token()).as("the answer taken").isEqualTo(newest);
				assertThat(client.answers).extracting(ResumeFrame.Session::token).containsExactly(token, newest);
				await().atMost(Duration.ofSeconds(10)).until(() -> !late.isOpen());
			}
		}
	}

	/** A WebSocket server on Netty that greets each connection with {@code H} and leaves the rest to the test. */
	private static final class ScriptedServer implements AutoCloseable {

		private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

		private final BlockingQueue<ScriptedConnection> accepted = new LinkedBlockingQueue<>();

		private final Channel channel;

		ScriptedServer() throws InterruptedException {
			WebSocketServerProtocolConfig config = WebSocketServerProtocolConfig.newBuilder()
				.websocketPath("/ws")
				.checkStartsWith(true)
				.build();
			this.channel = new ServerBootstrap().group(this.group)
				.channel(NioServerSocketChannel.class)
				.childHandler(new ChannelInitializer<SocketChannel>() {

					@Override
					protected void initChannel(SocketChannel channel) {
						channel.pipeline()
							.addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
									new WebSocketServerProtocolHandler(config),
									new ScriptedConnection(ScriptedServer.this.accepted));
					}

				})
				.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
				.sync()
				.channel();
		}

		String url() {
			return "ws://127.0.0.1:" + ((InetSocketAddress) this.channel.localAddress()).getPort() + "/ws";
		}

		/** The next connection whose handshake completed (greeted with {@code H}). */
		ScriptedConnection next() throws InterruptedException {
			ScriptedConnection connection = this.accepted.poll(10, TimeUnit.SECONDS);
			assertThat(connection).as("a connection").isNotNull();
			return connection;
		}

		@Override
		public void close() throws InterruptedException {
			this.channel.close().sync();
			this.group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
		}

	}

	private static final class ScriptedConnection extends SimpleChannelInboundHandler<TextWebSocketFrame> {

		private final BlockingQueue<ScriptedConnection> accepted;

		private final BlockingQueue<String> texts = new LinkedBlockingQueue<>();

		private volatile Channel channel;

		ScriptedConnection(BlockingQueue<ScriptedConnection> accepted) {
			this.accepted = accepted;
		}

		@Override
		public void userEventTriggered(ChannelHandlerContext context, Object event) throws Exception {
			if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
				this.channel = context.channel();
				send(ResumeWire.write(new ResumeFrame.Hello()));
				this.accepted.add(this);
			}
			super.userEventTriggered(context, event);
		}

		@Override
		protected void channelRead0(ChannelHandlerContext context, TextWebSocketFrame frame) {
			this.texts.add(frame.text());
		}

		void send(String text) {
			this.channel.writeAndFlush(new TextWebSocketFrame(text));
		}

		String nextText() throws InterruptedException {
			String text = this.texts.poll(10, TimeUnit.SECONDS);
			assertThat(text).as("a message from the client").isNotNull();
			return text;
		}

		boolean isOpen() {
			return this.channel.isActive();
		}

	}

}
