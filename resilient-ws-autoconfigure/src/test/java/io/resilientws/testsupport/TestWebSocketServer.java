package io.resilientws.testsupport;

import java.io.IOException;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import org.apache.tomcat.websocket.WsRemoteEndpointImplBase;
import org.apache.tomcat.websocket.WsSession;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.util.StringUtils;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.SubProtocolCapable;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.WebSocketMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.adapter.NativeWebSocketSession;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;
import org.springframework.web.socket.handler.AbstractWebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;
import org.springframework.web.socket.server.standard.ServletServerContainerFactoryBean;

/**
 * A real embedded-Tomcat WebSocket server, started as a minimal Spring Boot application, whose
 * behaviour tests control. One raw Spring {@link WebSocketHandler} is mapped at {@code /ws}:
 * <ul>
 * <li>text and binary messages are echoed back;</li>
 * <li>the text command {@code close:<code>} (e.g. {@code close:1012}) makes the server close that
 * session with that status code instead;</li>
 * <li>every other text message is recorded, in arrival order, in {@link #received()}.</li>
 * </ul>
 * A handshake with the query parameter {@code user=<name>} is authenticated as that user.
 *
 * <p>By default the application runs <em>without</em> resilient-ws's own auto-configurations (every
 * auto-configuration whose class name starts with {@code io.resilientws.} is excluded), so it
 * behaves like an arbitrary third-party server. See {@link Builder#resilientWsAutoConfiguration}.
 */
public final class TestWebSocketServer implements AutoCloseable {

	/** The path the handler is mapped to. */
	public static final String PATH = "/ws";

	/** The path the handler is also mapped to with SockJS, when {@link Builder#sockJs()} asks for it. */
	public static final String SOCKJS_PATH = "/sockjs";

	private static final String ALLOWED_ORIGINS = "test-server.allowed-origins";

	private static final String SOCKJS = "test-server.sockjs";

	/** The largest text or binary message the server accepts (Tomcat's default is 8 KiB). */
	public static final int MAX_MESSAGE_SIZE = 1024 * 1024;

	private static final String CLOSE_COMMAND = "close:";

	private final ConfigurableApplicationContext context;

	private final ControllableHandler handler;

	private final int port;

	private TestWebSocketServer(ConfigurableApplicationContext context, ControllableHandler handler) {
		this.context = context;
		this.handler = handler;
		this.port = context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
	}

	/** Starts a server on a random free port. */
	public static TestWebSocketServer start() {
		return builder().start();
	}

	/** Starts a server on the given port (e.g. the port of a server stopped earlier, to "restart" it). */
	public static TestWebSocketServer start(int port) {
		return builder().port(port).start();
	}

	public static Builder builder() {
		return new Builder();
	}

	/** The port the server listens on (still returns the old port after {@link #stop()}). */
	public int port() {
		return this.port;
	}

	/** {@code ws://127.0.0.1:<port>/ws}. */
	public String url() {
		return "ws://127.0.0.1:" + this.port + PATH;
	}

	/** Text messages received so far, in arrival order, without the {@code close:} commands. Live view. */
	public List<String> received() {
		return Collections.unmodifiableList(this.handler.received);
	}

	/**
	 * What {@link #received()} holds, each with the connection and thread it came on and the time in
	 * milliseconds: to tell, when a test sees a message twice, where each copy came from.
	 */
	public List<String> receivedWithOrigin() {
		return Collections.unmodifiableList(this.handler.receivedHow);
	}

	/** The number of sessions currently open. */
	public int openSessions() {
		return (int) this.handler.sessions.stream().filter(WebSocketSession::isOpen).count();
	}

	/**
	 * The sub-protocol accepted for each session, in the order sessions opened; {@code ""} for a session
	 * that negotiated none. Live view.
	 */
	public List<String> negotiatedSubprotocols() {
		return Collections.unmodifiableList(this.handler.subprotocols);
	}

	/**
	 * The request headers of every handshake attempt, in order (recorded before the handshake is
	 * validated, so failed handshakes are included). Live view.
	 */
	public List<HttpHeaders> handshakeHeaders() {
		return Collections.unmodifiableList(this.handler.handshakeHeaders);
	}

	/** The request URI of every handshake attempt, in order (query included). Live view. */
	public List<java.net.URI> handshakeUris() {
		return Collections.unmodifiableList(this.handler.handshakeUris);
	}

	/** The request headers of the latest handshake attempt. */
	public HttpHeaders lastHandshakeHeaders() {
		List<HttpHeaders> all = this.handler.handshakeHeaders;
		if (all.isEmpty()) {
			throw new IllegalStateException("No handshake seen yet");
		}
		return all.get(all.size() - 1);
	}

	/** The close status of every session that ended, in order (whoever initiated the close). Live view. */
	public List<CloseStatus> closeStatuses() {
		return Collections.unmodifiableList(this.handler.closeStatuses);
	}

	/** Sends a text message to every open session. */
	public void broadcast(String text) {
		for (WebSocketSession session : this.handler.sessions) {
			this.handler.send(session, new TextMessage(text));
		}
	}

	/** Sends one text message to every open session in fragments: one frame per part, the last one final. */
	public void broadcastFragmented(String... parts) {
		for (WebSocketSession session : this.handler.sessions) {
			synchronized (session) {
				for (int i = 0; i < parts.length; i++) {
					this.handler.send(session, new TextMessage(parts[i], i == parts.length - 1));
				}
			}
		}
	}

	/** Sends a binary message to every open session. */
	public void broadcast(byte[] data) {
		for (WebSocketSession session : this.handler.sessions) {
			this.handler.send(session, new BinaryMessage(data));
		}
	}

	/** Closes every open session from the server side with a close frame carrying {@code code}. */
	public void closeAll(int code) {
		for (WebSocketSession session : this.handler.sessions) {
			this.handler.close(session, new CloseStatus(code));
		}
	}

	/**
	 * Drops every open session's TCP connection without sending a close frame, so clients see an
	 * abnormal closure (1006). Spring and the WebSocket API only offer closes that send a close
	 * frame, so this reaches into Tomcat's {@code WsSession} and closes its socket directly. The
	 * connection ends with a FIN, not an RST; use {@link TcpProxy#cutAll()} for resets.
	 */
	public void abortAll() {
		for (WebSocketSession session : this.handler.sessions) {
			abort(session);
		}
	}

	/** Stops the application (and with it Tomcat), like a server going away. Idempotent. */
	public void stop() {
		this.context.close();
	}

	@Override
	public void close() {
		stop();
	}

	/** The running application context, for tests that need to look inside. */
	public ConfigurableApplicationContext applicationContext() {
		return this.context;
	}

	private static void abort(WebSocketSession session) {
		Session nativeSession = ((NativeWebSocketSession) session).getNativeSession(Session.class);
		try {
			// WsSession keeps its connection in a private field; closing that endpoint closes the
			// socket without the close frame every public close method sends.
			WsSession wsSession = (WsSession) nativeSession;
			Field endpointField = WsSession.class.getDeclaredField("wsRemoteEndpoint");
			endpointField.setAccessible(true);
			((WsRemoteEndpointImplBase) endpointField.get(wsSession)).close();
			// Tomcat does not always notice a socket closed under its feet, so end the session
			// explicitly: its close frame cannot be written any more, and the handler's
			// afterConnectionClosed gets 1006 like for any other lost connection.
			CloseReason abnormal = new CloseReason(CloseReason.CloseCodes.CLOSED_ABNORMALLY, "aborted by test");
			wsSession.doClose(abnormal, abnormal, true);
		}
		catch (ReflectiveOperationException | ClassCastException ex) {
			throw new UnsupportedOperationException(
					"abortAll() needs Tomcat's WsSession; this Tomcat version is not supported", ex);
		}
	}

	/** Configures and starts a {@link TestWebSocketServer}. */
	public static final class Builder {

		private int port = 0;

		private final List<String> subprotocols = new ArrayList<>();

		private final Map<String, String> properties = new LinkedHashMap<>();

		private boolean resilientWsAutoConfiguration = false;

		private @org.jspecify.annotations.Nullable WebSocketHandler handler;

		private Builder() {
		}

		/** The port to listen on; 0 (the default) picks a free one. */
		public Builder port(int port) {
			this.port = port;
			return this;
		}

		/**
		 * Sub-protocols the handler supports, in preference order as far as the client's list allows
		 * (Spring picks the first protocol the client requested that is in this list).
		 */
		public Builder subprotocols(String... subprotocols) {
			this.subprotocols.addAll(List.of(subprotocols));
			return this;
		}

		/** An extra Spring Boot property for the server application (highest precedence). */
		public Builder property(String name, String value) {
			this.properties.put(name, value);
			return this;
		}

		/**
		 * The origins the endpoints accept; none for Spring's same-origin check (or resilient-ws's
		 * {@code allowed-origins}, which applies to endpoints that set none). Default {@code *}.
		 */
		public Builder allowedOrigins(String... origins) {
			return property(ALLOWED_ORIGINS, String.join(",", origins));
		}

		/** Maps the handler at {@link #SOCKJS_PATH} with SockJS too (same origins as {@code /ws}). */
		public Builder sockJs() {
			return property(SOCKJS, "true");
		}

		/**
		 * Whether resilient-ws's own auto-configurations apply to this server. Off by default, so the
		 * server behaves like a plain Spring/Tomcat server.
		 */
		public Builder resilientWsAutoConfiguration(boolean enabled) {
			this.resilientWsAutoConfiguration = enabled;
			return this;
		}

		/**
		 * Maps {@code handler} at {@link #PATH} instead of the echoing one (a protocol peer, say); the
		 * handshakes are still recorded.
		 */
		public Builder handler(WebSocketHandler handler) {
			this.handler = handler;
			return this;
		}

		public TestWebSocketServer start() {
			ControllableHandler handler = new ControllableHandler(this.subprotocols, this.handler);
			Map<String, String> args = new LinkedHashMap<>();
			args.put("server.port", String.valueOf(this.port));
			args.put("server.address", "127.0.0.1");
			args.put("spring.main.banner-mode", "off");
			args.put("spring.jmx.enabled", "false");
			if (!this.resilientWsAutoConfiguration) {
				String excluded = resilientWsAutoConfigurations();
				if (!excluded.isEmpty()) {
					args.put("spring.autoconfigure.exclude", excluded);
				}
			}
			args.putAll(this.properties);
			// Passed as command-line arguments so they beat any application.properties on the
			// test class path.
			String[] commandLine = args.entrySet()
				.stream()
				.map((entry) -> "--" + entry.getKey() + "=" + entry.getValue())
				.toArray(String[]::new);
			ConfigurableApplicationContext context = new SpringApplicationBuilder(ServerApplication.class)
				.logStartupInfo(false)
				.registerShutdownHook(false)
				.initializers((ctx) -> ctx.getBeanFactory().registerSingleton("testWebSocketHandler", handler))
				.run(commandLine);
			return new TestWebSocketServer(context, handler);
		}

		private static String resilientWsAutoConfigurations() {
			ClassLoader classLoader = TestWebSocketServer.class.getClassLoader();
			return ImportCandidates.load(AutoConfiguration.class, classLoader)
				.getCandidates()
				.stream()
				.filter((name) -> name.startsWith("io.resilientws."))
				.collect(Collectors.joining(","));
		}

	}

	/**
	 * The minimal application: Boot's auto-configuration (Tomcat, WebSocket) plus one handler.
	 * Deliberately not annotated {@code @Configuration}: as a primary source it needs no stereotype,
	 * and without one a component scan of {@code io.resilientws} by some other test application
	 * cannot pick it up by accident.
	 */
	@EnableAutoConfiguration
	@EnableWebSocket
	static class ServerApplication implements WebSocketConfigurer {

		private final ControllableHandler handler;

		private final String[] allowedOrigins;

		private final boolean sockJs;

		ServerApplication(ControllableHandler handler, Environment environment) {
			this.handler = handler;
			this.allowedOrigins = StringUtils
				.commaDelimitedListToStringArray(environment.getProperty(ALLOWED_ORIGINS, "*"));
			this.sockJs = environment.getProperty(SOCKJS, Boolean.class, false);
		}

		@Override
		public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
			registry.addHandler(this.handler.mapped(), PATH)
				.addInterceptors(this.handler)
				.setAllowedOrigins(this.allowedOrigins);
			if (this.sockJs) {
				registry.addHandler(this.handler, SOCKJS_PATH)
					.addInterceptors(this.handler)
					.setAllowedOrigins(this.allowedOrigins)
					.withSockJS();
			}
		}

		/**
		 * Tomcat closes sessions with 1009 on messages over 8 KiB by default; tests send bigger ones,
		 * as real applications configured for them do.
		 */
		/**
		 * A handshake with {@code ?user=<name>} is authenticated as that user, so tests can open
		 * sessions of a principal without a security setup.
		 */
		@Bean
		static jakarta.servlet.Filter queryParameterPrincipal() {
			return (request, response, chain) -> {
				String user = request.getParameter("user");
				if (user != null && request instanceof jakarta.servlet.http.HttpServletRequest http) {
					java.security.Principal principal = () -> user;
					chain.doFilter(new jakarta.servlet.http.HttpServletRequestWrapper(http) {
						@Override
						public java.security.Principal getUserPrincipal() {
							return principal;
						}
					}, response);
				}
				else {
					chain.doFilter(request, response);
				}
			};
		}

		@Bean
		static ServletServerContainerFactoryBean webSocketContainer() {
			ServletServerContainerFactoryBean container = new ServletServerContainerFactoryBean();
			container.setMaxTextMessageBufferSize(MAX_MESSAGE_SIZE);
			container.setMaxBinaryMessageBufferSize(MAX_MESSAGE_SIZE);
			return container;
		}

	}

	/** The handler whose state the server exposes. */
	static final class ControllableHandler extends AbstractWebSocketHandler
			implements SubProtocolCapable, HandshakeInterceptor {

		private final List<String> supportedSubprotocols;

		final Set<WebSocketSession> sessions = ConcurrentHashMap.newKeySet();

		final List<String> received = new CopyOnWriteArrayList<>();

		/** For each of {@link #received}: which connection and thread it came on, and when (for failure reports). */
		final List<String> receivedHow = new CopyOnWriteArrayList<>();

		final List<String> subprotocols = new CopyOnWriteArrayList<>();

		final List<HttpHeaders> handshakeHeaders = new CopyOnWriteArrayList<>();

		final List<java.net.URI> handshakeUris = new CopyOnWriteArrayList<>();

		private final @org.jspecify.annotations.Nullable WebSocketHandler replacement;

		final List<CloseStatus> closeStatuses = new CopyOnWriteArrayList<>();

		ControllableHandler(List<String> supportedSubprotocols,
				@org.jspecify.annotations.Nullable WebSocketHandler replacement) {
			this.supportedSubprotocols = List.copyOf(supportedSubprotocols);
			this.replacement = replacement;
		}

		/** The handler mapped at {@link #PATH}: this one, or the builder's replacement. */
		WebSocketHandler mapped() {
			return (this.replacement != null) ? this.replacement : this;
		}

		@Override
		public List<String> getSubProtocols() {
			return this.supportedSubprotocols;
		}

		@Override
		public boolean beforeHandshake(ServerHttpRequest request, ServerHttpResponse response,
				WebSocketHandler wsHandler, Map<String, Object> attributes) {
			this.handshakeHeaders.add(HttpHeaders.readOnlyHttpHeaders(HttpHeaders.copyOf(request.getHeaders())));
			this.handshakeUris.add(request.getURI());
			return true;
		}

		@Override
		public void afterHandshake(ServerHttpRequest request, ServerHttpResponse response,
				WebSocketHandler wsHandler, Exception exception) {
		}

		@Override
		public void afterConnectionEstablished(WebSocketSession session) {
			this.subprotocols.add(Objects.requireNonNullElse(session.getAcceptedProtocol(), ""));
			this.sessions.add(session);
		}

		@Override
		protected void handleTextMessage(WebSocketSession session, TextMessage message) {
			String payload = message.getPayload();
			if (payload.startsWith(CLOSE_COMMAND)) {
				int code = Integer.parseInt(payload.substring(CLOSE_COMMAND.length()).trim());
				close(session, new CloseStatus(code));
				return;
			}
			// Recorded before echoing, so a client that got the echo can assert on received().
			this.received.add(payload);
			this.receivedHow.add(payload + " on " + session.getId() + " (" + Thread.currentThread().getName() + ", "
					+ System.nanoTime() / 1_000_000 + " ms)");
			send(session, new TextMessage(payload));
		}

		@Override
		protected void handleBinaryMessage(WebSocketSession session, BinaryMessage message) {
			send(session, new BinaryMessage(message.getPayload()));
		}

		@Override
		public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
			this.sessions.remove(session);
			this.closeStatuses.add(status);
		}

		// Tomcat rejects concurrent sends on one session, and tests call broadcast()/closeAll() from
		// their own thread while the handler may be echoing, hence the per-session lock.

		void send(WebSocketSession session, WebSocketMessage<?> message) {
			synchronized (session) {
				try {
					if (session.isOpen()) {
						session.sendMessage(message);
					}
				}
				catch (IOException ex) {
					// The peer is gone; afterConnectionClosed will follow.
				}
			}
		}

		void close(WebSocketSession session, CloseStatus status) {
			synchronized (session) {
				try {
					session.close(status);
				}
				catch (IOException ex) {
					// Already broken; nothing more to close.
				}
			}
		}

	}

}
