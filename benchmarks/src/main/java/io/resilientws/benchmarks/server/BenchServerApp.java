package io.resilientws.benchmarks.server;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.resilientws.server.ClusterView;
import io.resilientws.server.EndpointStatistics;
import io.resilientws.server.ServerSessionRegistry;
import io.resilientws.server.SessionEvent;
import io.resilientws.server.SessionSelector;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.util.unit.DataSize;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.PingMessage;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;
import org.springframework.web.socket.handler.AbstractWebSocketHandler;
import org.springframework.web.socket.handler.ConcurrentWebSocketSessionDecorator;
import org.springframework.web.socket.handler.SessionLimitExceededException;
import org.springframework.web.socket.server.standard.ServletServerContainerFactoryBean;

/**
 * The server under test, started in its own JVM by the driver. One raw Spring handler at {@code /ws}
 * echoes every message and is the target of broadcasts; another at {@code /chat} broadcasts every
 * text it receives ({@link ChatHandler}); {@code /control/*} lets the driver start a broadcast and
 * read CPU time and heap.
 * <p>
 * The same code runs in both modes: {@code --resilient-ws.server.enabled=false} is plain Spring
 * (broadcast = a loop over {@link ConcurrentWebSocketSessionDecorator}s, as Spring's documentation
 * recommends); otherwise every session is a resilient-ws {@code ManagedSession} and broadcast is
 * {@link ServerSessionRegistry#broadcast(String)}, which in cluster mode
 * ({@code --resilient-ws.cluster.enabled=true}) also reaches the other instances' sessions through Redis.
 */
@SpringBootApplication
@EnableWebSocket
public class BenchServerApp implements WebSocketConfigurer {

	/** What Spring's docs suggest and what the measured plain baseline used: 10 s, 512 KiB. */
	static final int PLAIN_SEND_TIME_LIMIT_MS = 10_000;

	static final int PLAIN_BUFFER_LIMIT = 512 * 1024;

	private final EchoHandler handler = new EchoHandler();

	private final ChatHandler chat = new ChatHandler();

	public static void main(String[] args) {
		SpringApplication.run(BenchServerApp.class, args);
	}

	@Override
	public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
		registry.addHandler(this.handler, "/ws").setAllowedOriginPatterns("*");
		registry.addHandler(this.chat, "/chat").setAllowedOriginPatterns("*");
	}

	@Bean
	EchoHandler echoHandler() {
		return this.handler;
	}

	@Bean
	ChatHandler chatHandler(ObjectProvider<ServerSessionRegistry> registry, Environment env) {
		this.chat.registry = registry.getIfAvailable();
		this.chat.plainBufferLimit = (int) env
			.getProperty("bench.plain-buffer-limit", DataSize.class, DataSize.ofBytes(PLAIN_BUFFER_LIMIT))
			.toBytes();
		return this.chat;
	}

	@Bean
	ServletServerContainerFactoryBean webSocketContainer(Environment env) {
		ServletServerContainerFactoryBean container = new ServletServerContainerFactoryBean();
		int max = env.getProperty("bench.max-message", Integer.class, 8192);
		container.setMaxTextMessageBufferSize(max);
		container.setMaxBinaryMessageBufferSize(max);
		return container;
	}

	/**
	 * With {@code bench.ping-loop-interval}: what a hand-rolled heartbeat on plain Spring costs at the
	 * least. One thread pings every session in a loop (Tomcat's blocking ping), keeps no timeouts and
	 * drops nobody: the floor under any heartbeat on this container.
	 */
	@Bean(destroyMethod = "shutdownNow")
	@ConditionalOnProperty("bench.ping-loop-interval")
	ScheduledExecutorService pingLoop(EchoHandler handler, Environment env) {
		Duration interval = env.getRequiredProperty("bench.ping-loop-interval", Duration.class);
		ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor((task) -> new Thread(task, "ping-loop"));
		loop.scheduleAtFixedRate(() -> handler.decorated.values().forEach((session) -> {
			try {
				((ConcurrentWebSocketSessionDecorator) session).getDelegate().sendMessage(new PingMessage());
			}
			catch (IOException | RuntimeException ex) {
				// A dead session: plain Spring finds out when it closes.
			}
		}), interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
		return loop;
	}

	/** Echoes; keeps a {@link ConcurrentWebSocketSessionDecorator} per session for the plain broadcast. */
	static final class EchoHandler extends AbstractWebSocketHandler {

		final Map<String, WebSocketSession> decorated = new ConcurrentHashMap<>();

		@Override
		public void afterConnectionEstablished(WebSocketSession session) {
			this.decorated.put(session.getId(),
					new ConcurrentWebSocketSessionDecorator(session, PLAIN_SEND_TIME_LIMIT_MS, PLAIN_BUFFER_LIMIT));
		}

		@Override
		protected void handleTextMessage(WebSocketSession session, TextMessage message) throws Exception {
			session.sendMessage(message);
		}

		@Override
		protected void handleBinaryMessage(WebSocketSession session, BinaryMessage message) throws Exception {
			session.sendMessage(message);
		}

		@Override
		public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
			this.decorated.remove(session.getId());
		}

	}

	/**
	 * The chat of the chat scenario (issue 10's probe): every text one participant sends goes to every
	 * participant of {@code /chat}, on the thread that read it. With the starter that is
	 * {@link ServerSessionRegistry#broadcast(String, java.util.function.Predicate)}; on plain Spring a
	 * loop over {@link ConcurrentWebSocketSessionDecorator}s of {@code bench.plain-buffer-limit} (10 s
	 * send time limit), closing a session whose decorator gives up, as Spring's own exception handling
	 * around a handler would.
	 */
	static final class ChatHandler extends AbstractWebSocketHandler {

		final Map<String, WebSocketSession> decorated = new ConcurrentHashMap<>();

		volatile @Nullable ServerSessionRegistry registry;

		volatile int plainBufferLimit = PLAIN_BUFFER_LIMIT;

		@Override
		public void afterConnectionEstablished(WebSocketSession session) {
			if (this.registry == null) {
				this.decorated.put(session.getId(),
						new ConcurrentWebSocketSessionDecorator(session, PLAIN_SEND_TIME_LIMIT_MS, this.plainBufferLimit));
			}
		}

		@Override
		protected void handleTextMessage(WebSocketSession session, TextMessage message) {
			ServerSessionRegistry sessions = this.registry;
			if (sessions != null) {
				sessions.broadcast(message.getPayload(), SessionSelector.endpoint("/chat"));
				return;
			}
			for (WebSocketSession target : this.decorated.values()) {
				try {
					target.sendMessage(message);
				}
				catch (SessionLimitExceededException ex) {
					closeQuietly(target, ex.getStatus());
				}
				catch (IOException | RuntimeException ex) {
					closeQuietly(target, CloseStatus.SERVER_ERROR);
				}
			}
		}

		private static void closeQuietly(WebSocketSession session, CloseStatus status) {
			try {
				session.close(status);
			}
			catch (IOException | RuntimeException ex) {
				// Already closed.
			}
		}

		@Override
		public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
			this.decorated.remove(session.getId());
		}

	}

	@RestController
	static class Control {

		private final EchoHandler handler;

		private final @Nullable ServerSessionRegistry registry;

		/** Server-side closes (starter mode), for the detection-latency scenario. */
		private final List<Map<String, Object>> closes = new ArrayList<>();

		/** Session resume (issue 13): sessions detached, resumed, refused, and the messages replayed. */
		private final java.util.concurrent.atomic.LongAdder detached = new java.util.concurrent.atomic.LongAdder();

		private final java.util.concurrent.atomic.LongAdder resumed = new java.util.concurrent.atomic.LongAdder();

		private final java.util.concurrent.atomic.LongAdder resumeRefused = new java.util.concurrent.atomic.LongAdder();

		private final java.util.concurrent.atomic.LongAdder replayed = new java.util.concurrent.atomic.LongAdder();

		private final Map<String, Long> refusedReasons = new ConcurrentHashMap<>();

		Control(EchoHandler handler, ObjectProvider<ServerSessionRegistry> registry) {
			this.handler = handler;
			this.registry = registry.getIfAvailable();
			if (this.registry != null) {
				this.registry.addListener((event) -> {
					if (event instanceof SessionEvent.Detached) {
						this.detached.increment();
					}
					else if (event instanceof SessionEvent.Resumed resumedEvent) {
						this.resumed.increment();
						this.replayed.add(resumedEvent.replayed());
					}
					else if (event instanceof SessionEvent.ResumeRefused refused) {
						this.resumeRefused.increment();
						this.refusedReasons.merge(refused.reason().name(), 1L, Long::sum);
					}
					if (event instanceof SessionEvent.Closed closed) {
						synchronized (this.closes) {
							this.closes.add(Map.of("timeMicros",
									closed.timestamp().getEpochSecond() * 1_000_000L + closed.timestamp().getNano() / 1000,
									"cause", closed.cause().name(), "code", closed.code()));
						}
					}
				});
			}
		}

		@GetMapping("/control/stats")
		Map<String, Object> stats(@RequestParam(defaultValue = "false") boolean gc) {
			if (gc) {
				for (int i = 0; i < 3; i++) {
					System.gc();
				}
			}
			Map<String, Object> stats = new LinkedHashMap<>();
			stats.put("mode", (this.registry != null) ? "starter" : "plain");
			stats.put("heapUsed", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
			stats.put("cpuNanos", ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
				.getProcessCpuTime());
			stats.put("sessions", (this.registry != null) ? this.registry.count() : this.handler.decorated.size());
			stats.put("threads", ManagementFactory.getThreadMXBean().getThreadCount());
			stats.put("nanoTime", System.nanoTime());
			if (this.registry != null) {
				stats.put("inboundPauses",
						this.registry.statistics().stream().mapToLong(EndpointStatistics::inboundPauses).sum());
				// The cluster scenario starts once every instance sees every other.
				ClusterView cluster = this.registry.clusterView();
				stats.put("clusterStatus", cluster.status().name());
				// Handshakes are refused as 'starting' until the registry has started, a moment after the
				// web server answers and, in cluster mode, after the cluster's first heartbeat.
				stats.put("admitting", this.registry.isRunning());
				stats.put("nodes", cluster.nodes().size());
				stats.put("detached", this.detached.sum());
				stats.put("resumed", this.resumed.sum());
				stats.put("resumeRefused", this.resumeRefused.sum());
				stats.put("replayed", this.replayed.sum());
				stats.put("refusedReasons", new java.util.TreeMap<>(this.refusedReasons));
				stats.put("detachedNow", this.registry.detachedCount());
			}
			return stats;
		}

		/** The chat's sessions' send buffers in bytes (starter only): where a stalled run's last copies wait. */
		@GetMapping("/control/chat-buffers")
		List<Long> chatBuffers() {
			return (this.registry == null) ? List.of() : this.registry.sessions()
				.stream()
				.filter((session) -> session.endpoint().equals("/chat"))
				.map(io.resilientws.server.ManagedSession::bufferedAmount)
				.toList();
		}

		@GetMapping("/control/closes")
		List<Map<String, Object>> closes() {
			synchronized (this.closes) {
				List<Map<String, Object>> copy = new ArrayList<>(this.closes);
				this.closes.clear();
				return copy;
			}
		}

		/**
		 * Broadcasts {@code count} text messages of {@code size} bytes at {@code rate} per second to every
		 * session. Each carries the time it was <em>due</em> (System.nanoTime, the same monotonic clock as
		 * the driver's on Linux), so a loop that falls behind shows up as latency, not as fewer samples.
		 */
		@PostMapping("/control/broadcast")
		Map<String, Object> broadcast(@RequestParam int count, @RequestParam double rate, @RequestParam int size) {
			long interval = (long) (1_000_000_000L / rate);
			long start = System.nanoTime() + 1_000_000;
			long accepted = 0;
			long rejected = 0;
			long maxLag = 0;
			StringBuilder padding = new StringBuilder();
			for (int i = 0; i < size; i++) {
				padding.append('x');
			}
			String pad = padding.toString();
			List<WebSocketSession> plain = new ArrayList<>();
			// A loop stuck behind a stalled client gives up 30 s after its last message was due: runs stay bounded.
			long giveUp = start + count * interval + 30_000_000_000L;
			int sent = 0;
			for (int i = 0; i < count && System.nanoTime() < giveUp; i++, sent++) {
				long due = start + i * interval;
				long now;
				while ((now = System.nanoTime()) < due) {
					LockSupport.parkNanos(Math.min(due - now, 1_000_000));
				}
				maxLag = Math.max(maxLag, now - due);
				String prefix = due + "|";
				String text = prefix + pad.substring(Math.min(pad.length(), prefix.length()));
				if (this.registry != null) {
					var result = this.registry.broadcast(text);
					accepted += result.accepted();
					rejected += result.rejected();
				}
				else {
					plain.clear();
					plain.addAll(this.handler.decorated.values());
					TextMessage message = new TextMessage(text);
					for (WebSocketSession session : plain) {
						try {
							session.sendMessage(message);
							accepted++;
						}
						catch (Exception ex) {
							rejected++;
						}
					}
				}
			}
			return Map.of("sent", sent, "accepted", accepted, "rejected", rejected, "maxLagMillis", maxLag / 1_000_000,
					"durationMillis", (System.nanoTime() - start) / 1_000_000);
		}

	}

}
