/*
 * resilient-ws browser client: a WebSocket that notices a dead link and comes back by itself.
 *
 * Every Spring Boot application with resilient-ws on its class path serves this file at
 * /resilient-ws/resilient-ws.js (Spring MVC serves classpath:/META-INF/resources/ as static content):
 *
 *   import { ResilientWebSocket } from '/resilient-ws/resilient-ws.js';
 *   const socket = new ResilientWebSocket('wss://example.com/chat', ['v1.chat'], { heartbeatInterval: 15000 });
 *   socket.onmessage = (event) => show(event.data);
 *   socket.addEventListener('reconnecting', (event) => status(`retry ${event.detail.attempt} in ${event.detail.delay} ms`));
 *
 * It keeps the browser WebSocket API (readyState, bufferedAmount, binaryType, protocol, extensions, url,
 * send, close, onopen/onmessage/onerror/onclose, addEventListener) and adds what the Java client of
 * resilient-ws does: an application-level heartbeat, reconnects with exponential backoff and jitter after
 * an abnormal close only, and a queue bounded in bytes for messages sent while disconnected. The close
 * codes that reconnect are the same table as the Java client's (README, "Which closes reconnect").
 *
 * With { resume: true } it also speaks the resume protocol of docs/RESUME-PROTOCOL.md when the server does:
 * after a loss, the next connection continues the session, and every message arrives once, in order, in
 * both directions, or the page is told that the session was not recovered (ResumeSession, at the end).
 *
 * No dependencies; the WebSocket constructor, the timers, the clock and the source of randomness can be
 * injected through the options, so it runs (and is tested) in Node.js as well.
 */

/** The application-level ping every resilient-ws part speaks (HeartbeatSettings.DEFAULT_PING_TEXT in Java). */
export const PING_TEXT = '__rws_ping__';

/** The answer to {@link PING_TEXT} (HeartbeatSettings.DEFAULT_PONG_TEXT in Java). */
export const PONG_TEXT = '__rws_pong__';

/**
 * The close codes after which a lost connection comes back. Must agree with the Java client's
 * ReconnectSettings.DEFAULT_RECONNECT_CODES: 1006 covers network loss, heartbeat death and failed
 * connects; 1001, 1011, 1012, 1013 (after a longer floor) and 1014 mean "the server is going away or
 * overloaded, try again". Every other code was intentional (1000) or would only happen again.
 */
export const DEFAULT_RECONNECT_CODES = Object.freeze([1001, 1006, 1011, 1012, 1013, 1014]);

const ABNORMAL_CLOSURE = 1006;
const PROTOCOL_ERROR = 1002;
const TRY_AGAIN_LATER = 1013;

/**
 * The closes after which a resume session is kept for the next connection (RESUME-PROTOCOL.md §5): a loss,
 * not a decision. Any other close ends the session, even if the client reconnects after it (1014, or a code
 * of reconnectOnCodes).
 */
const SESSION_KEEPING_CODES = new Set([1001, 1006, 1011, 1012, 1013]);

/** Every option and its default. */
export const DEFAULT_OPTIONS = Object.freeze({
  /** Time between heartbeat pings, in ms; 0 turns the heartbeat off. */
  heartbeatInterval: 20000,
  /** How long a ping may go unanswered, in ms, before the link is declared dead. */
  heartbeatTimeout: 10000,
  /** The text sent as a ping. */
  pingText: PING_TEXT,
  /** The reply that answers a ping; never given to onmessage. */
  pongText: PONG_TEXT,
  /** Delay before the first reconnect attempt after a loss, in ms. */
  initialDelay: 1000,
  /** Longest delay between attempts, in ms. */
  maxDelay: 30000,
  /** Growth of each delay over the previous one. */
  multiplier: 2,
  /**
   * Randomness of each delay, as a fraction (0 to 1) of the delay: the delay is drawn from
   * [max(d − jitter·d, initialDelay), min(d + jitter·d, maxDelay)]. 0.5 with initialDelay 1000 matches the
   * Java client's defaults (reconnect.jitter 500ms, initial-delay 1s).
   */
  jitter: 0.5,
  /** Reconnect attempts after a loss before staying CLOSED. */
  maxAttempts: Infinity,
  /** Uptime, in ms, after which the next loss starts delays and the attempt count afresh. */
  stableAfter: 30000,
  /** The least delay after a 1013 (Try Again Later) close, in ms. */
  tryAgainLaterDelay: 10000,
  /** Extra close codes that reconnect (e.g. application codes 4000-4999). */
  reconnectOnCodes: [],
  /** Close codes that never reconnect; wins over everything else. */
  neverReconnectOnCodes: [],
  /**
   * Bytes (UTF-8 for text) that may wait while disconnected; 0 refuses sends while disconnected. With resume,
   * bytes written but not yet acknowledged by the server count too, connected or not.
   */
  queueLimitBytes: 1024 * 1024,
  /** How long one connect attempt (TCP, TLS and handshake) may take, in ms, before it counts as failed. */
  connectTimeout: 10000,
  /** How long close() waits for the server's close frame, in ms, before giving up on the socket. */
  closeTimeout: 5000,
  /** The WebSocket constructor; the browser's by default. */
  WebSocket: undefined,
  /** Timer functions and clock; the global ones by default. */
  setTimeout: undefined,
  clearTimeout: undefined,
  now: undefined,
  /** Returns a number in [0, 1), for jitter; Math.random by default. */
  random: undefined,
  /** Where 'online' and 'offline' events come from; window in a browser, none elsewhere. */
  network: undefined,
  /**
   * Session resume (docs/RESUME-PROTOCOL.md): after a loss, the next connection continues the same session
   * and neither side loses or repeats a message. Off by default; the server must support it on the endpoint,
   * otherwise the connection stays a plain WebSocket.
   */
  resume: false,
  /** With resume: how long to wait, in ms, for each of the server's handshake messages (H, then S). */
  resumeHelloTimeout: 5000,
});

// Internal states. readyState reads 'waiting' (lost, next attempt pending) as CONNECTING, as in
// reconnecting-websocket: to the page the socket is on its way to OPEN again.
const CONNECTING_STATE = 'connecting';
const OPEN_STATE = 'open';
const CLOSING_STATE = 'closing';
const CLOSED_STATE = 'closed';
const WAITING_STATE = 'waiting';
// With resume: the native socket is open, and the resume handshake (H, N or R, S) is under way. The page
// sees CONNECTING, and no 'open' until the client knows whether the connection speaks the protocol.
const HANDSHAKE_STATE = 'handshake';

const READY_STATES = {
  [CONNECTING_STATE]: 0,
  [HANDSHAKE_STATE]: 0,
  [WAITING_STATE]: 0,
  [OPEN_STATE]: 1,
  [CLOSING_STATE]: 2,
  [CLOSED_STATE]: 3,
};

const EVENT_TYPES = ['open', 'message', 'error', 'close', 'reconnecting', 'reconnected', 'senderror'];

/**
 * A WebSocket that sends heartbeats, reconnects after abnormal closes and queues messages while
 * disconnected.
 *
 * Events, beyond the WebSocket's own:
 * - 'open' after every (re)connect; messages queued while disconnected have been handed to the socket
 *   before it is dispatched, in the order they were sent.
 * - 'close' after every loss or failed attempt, with code, reason, wasClean and willReconnect. A missed
 *   heartbeat is code 1006, wasClean false, with a reason starting 'heartbeat:'.
 * - 'reconnecting' (CustomEvent) when an attempt is scheduled: detail { attempt, delay, code, reason };
 *   delay is null while the browser is offline (the attempt waits for 'online').
 * - 'reconnected' (CustomEvent) after the 'open' that ends a reconnect series: detail { attempt }; with
 *   the resume option also recovered (always a boolean: true only when the session went on) and, when
 *   false, reason: the server's ('expired', 'unknown', ...), 'new-session' (the client had no session to
 *   resume) or 'unsupported' (the server does not speak the protocol). 'open' never carries it.
 * - 'senderror' (CustomEvent) whenever send() refuses a message, and for every queued message that is
 *   discarded because the socket closed for good: detail { reason: 'queue-full' | 'closed' |
 *   'not-recovered', data, size, queuedBytes, limit }. With resume, 'not-recovered' for each message of a
 *   session that was not recovered (unacknowledged or queued), dispatched before that connection's 'open';
 *   and queuedBytes counts unacknowledged bytes too.
 */
export class ResilientWebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  /**
   * @param {string|URL} url ws:// or wss:// URL
   * @param {string|string[]} [protocols] subprotocols offered, most preferred first
   * @param {Partial<typeof DEFAULT_OPTIONS>} [options] see DEFAULT_OPTIONS
   */
  constructor(url, protocols, options = {}) {
    super();
    const settings = { ...DEFAULT_OPTIONS, ...options };
    const NativeWebSocket = settings.WebSocket ?? globalThis.WebSocket;
    if (typeof NativeWebSocket !== 'function') {
      throw new TypeError('No WebSocket constructor: pass one as options.WebSocket');
    }
    this._url = String(url);
    this._protocols = protocols;
    this._settings = settings;
    this._NativeWebSocket = NativeWebSocket;
    // Wrapped rather than stored: browsers throw "Illegal invocation" when timers are called on another object.
    this._setTimeout = settings.setTimeout ?? ((callback, ms) => setTimeout(callback, ms));
    this._clearTimeout = settings.clearTimeout ?? ((handle) => clearTimeout(handle));
    this._now = settings.now ?? (() => Date.now());
    this._random = settings.random ?? Math.random;
    this._reconnectCodes = new Set([...DEFAULT_RECONNECT_CODES, ...settings.reconnectOnCodes]);
    settings.neverReconnectOnCodes.forEach((code) => this._reconnectCodes.delete(code));

    this._state = CONNECTING_STATE;
    /** Numbers the native sockets; events of an older one are stale and ignored. */
    this._generation = 0;
    this._ws = null;
    this._binaryType = undefined;
    /** The number of the current (or next) reconnect attempt since the last stable open; 0 if none. */
    this._attempt = 0;
    /** Whether a 'reconnecting' was dispatched and its 'reconnected' is still due. */
    this._reconnecting = false;
    this._openedAt = null;
    /** Connect timeout, reconnect wait or close timeout: one at a time, as the states exclude each other. */
    this._timer = null;
    this._heartbeatTimer = null;
    this._pingSentAt = null;
    this._lastLifeAt = 0;
    this._queue = [];
    this._queuedBytes = 0;
    this._closeCode = undefined;
    this._offline = false;
    /** With the resume option: the session that outlives connections; null without it. */
    this._resume = settings.resume ? new ResumeSession() : null;
    /** Whether the current connection speaks the resume protocol (the server sent H). */
    this._speaking = false;
    /** Whether the current connection's client answered H with R (resume) rather than N. */
    this._presentedToken = false;
    this._ackTimer = null;
    /** The native socket's own default binaryType (a resume client's native socket reads arraybuffer). */
    this._nativeBinaryType = undefined;

    this.onopen = null;
    this.onmessage = null;
    this.onerror = null;
    this.onclose = null;
    this.onreconnecting = null;
    this.onreconnected = null;
    this.onsenderror = null;
    // Registered first, so handler properties run before listeners added later, as in the browser.
    for (const type of EVENT_TYPES) {
      super.addEventListener(type, (event) => {
        const handler = this[`on${type}`];
        if (typeof handler === 'function') {
          handler.call(this, event);
        }
      });
    }

    this._network = settings.network ?? (typeof window !== 'undefined' ? window : null);
    this._onOffline = () => this._wentOffline();
    this._onOnline = () => this._cameOnline();
    if (this._network && typeof this._network.addEventListener === 'function') {
      this._network.addEventListener('offline', this._onOffline);
      this._network.addEventListener('online', this._onOnline);
    }

    // Like the browser's constructor, the first attempt throws at once on a malformed URL.
    this._connect(true);
  }

  get CONNECTING() { return 0; }
  get OPEN() { return 1; }
  get CLOSING() { return 2; }
  get CLOSED() { return 3; }

  /** 0 connecting (or waiting to reconnect), 1 open, 2 closing, 3 closed for good. */
  get readyState() {
    return READY_STATES[this._state];
  }

  /** The URL given to the constructor (as the browser normalizes it); without the resume parameter. */
  get url() {
    const url = this._ws?.url ?? this._url;
    return this._resume ? withoutResumeParameter(url) : url;
  }

  /** Whether the current connection speaks the resume protocol (resume option on, and the server supports it). */
  get resumable() {
    return this._speaking && this._state === OPEN_STATE;
  }

  /** The subprotocol the server chose on the current connection, or ''. */
  get protocol() {
    return this._ws?.protocol ?? '';
  }

  get extensions() {
    return this._ws?.extensions ?? '';
  }

  /**
   * Bytes handed to the socket but not yet sent, plus bytes queued while disconnected. With resume, bytes
   * written but not yet acknowledged by the server instead of those in the socket (which they include).
   */
  get bufferedAmount() {
    const inSocket = !this._speaking && this._ws && (this._state === OPEN_STATE || this._state === CLOSING_STATE)
      ? (this._ws.bufferedAmount ?? 0) : 0;
    return inSocket + this._heldBytes();
  }

  get binaryType() {
    return this._binaryType ?? this._nativeBinaryType ?? this._ws?.binaryType ?? 'blob';
  }

  /** Applies to the current socket and to every socket of later reconnects. */
  set binaryType(type) {
    this._binaryType = type;
    // A resume client's native socket always reads arraybuffer (to see a leading NUL byte at once);
    // messages are converted to this type when they are dispatched.
    if (this._ws && !this._resume) {
      this._ws.binaryType = type;
    }
  }

  /**
   * Sends now if open, queues if connecting or waiting to reconnect.
   * @returns {boolean} true if sent or queued; false if refused, in which case a 'senderror' event says
   * why: 'queue-full' (disconnected, and the message does not fit in queueLimitBytes; with resume, also
   * while connected when queued plus unacknowledged bytes would pass it) or 'closed' (close() was called,
   * or the socket closed for good).
   * @throws {TypeError} with resume, for a Blob: whether it starts with a NUL byte (and must be escaped)
   * can only be read asynchronously; send its arrayBuffer() instead
   */
  send(data) {
    if (this._resume && typeof Blob === 'function' && data instanceof Blob) {
      throw new TypeError('With resume, send an ArrayBuffer or a typed array, not a Blob (await blob.arrayBuffer())');
    }
    if (this._state === CLOSING_STATE || this._state === CLOSED_STATE) {
      this._refused('closed', data, byteSize(data));
      return false;
    }
    const size = byteSize(data);
    const open = this._state === OPEN_STATE && this._ws.readyState === 1;
    // Plain: only what waits for a connection is bounded. Resume: what waits for an acknowledgement too,
    // so that the session always stays resumable; past the limit the page is told at once, as when queued.
    if ((!open || this._speaking) && this._heldBytes() + size > this._settings.queueLimitBytes) {
      this._refused('queue-full', data, size);
      return false;
    }
    if (open) {
      this._write(data, size);
      return true;
    }
    // Connecting, waiting, or open while the socket's close handshake is already under way (its close
    // event is on its way): hold the message for the next connection rather than lose it.
    this._queue.push({ data, size });
    this._queuedBytes += size;
    return true;
  }

  /**
   * Closes for good: no reconnect follows. While open, runs the close handshake (waiting at most
   * closeTimeout); while connecting or waiting to reconnect, stops at once. Messages still queued are
   * discarded, each with a 'senderror' (reason 'closed').
   * @param {number} [code] 1000 or 3000-4999, as in the browser
   * @param {string} [reason] at most 123 bytes of UTF-8
   */
  close(code, reason) {
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(`close code ${code} is neither 1000 nor in 3000-4999`, 'InvalidAccessError');
    }
    if (reason !== undefined && utf8Length(String(reason)) > 123) {
      throw new DOMException('close reason is longer than 123 bytes of UTF-8', 'SyntaxError');
    }
    if (this._state === CLOSING_STATE || this._state === CLOSED_STATE) {
      return;
    }
    if (this._state === OPEN_STATE || this._state === HANDSHAKE_STATE) {
      this._state = CLOSING_STATE;
      this._closeCode = code;
      this._stopHeartbeat();
      const generation = this._generation;
      this._ws.close(code, reason);
      this._timer = this._setTimeout(() => this._closeTimedOut(generation), this._settings.closeTimeout);
      return;
    }
    // Connecting or waiting: nothing to hand shake with.
    this._dropSocket();
    this._finish(code ?? 1005, reason ?? '', false);
  }

  // ---- the state machine ----

  _connect(first = false) {
    const generation = ++this._generation;
    this._state = CONNECTING_STATE;
    this._speaking = false;
    const url = this._resume ? withResumeParameter(this._url) : this._url;
    let ws;
    try {
      ws = this._protocols === undefined
        ? new this._NativeWebSocket(url)
        : new this._NativeWebSocket(url, this._protocols);
    } catch (error) {
      if (first) {
        this._removeNetworkListeners();
        this._state = CLOSED_STATE;
        throw error;
      }
      this._lost(ABNORMAL_CLOSURE, `connect failed: ${error?.message ?? error}`, false);
      return;
    }
    this._ws = ws;
    if (this._resume) {
      this._nativeBinaryType ??= ws.binaryType;
      ws.binaryType = 'arraybuffer';
    } else if (this._binaryType !== undefined) {
      ws.binaryType = this._binaryType;
    }
    const current = () => generation === this._generation;
    ws.onopen = () => current() && (this._resume ? this._awaitHello() : this._opened());
    ws.onmessage = (event) => current() && this._received(event);
    ws.onerror = () => current() && this._dispatch(new Event('error'));
    ws.onclose = (event) => current() && this._nativeClosed(event.code, event.reason, event.wasClean);
    this._timer = this._setTimeout(() => {
      if (current() && this._state === CONNECTING_STATE) {
        this._dropSocket();
        this._lost(ABNORMAL_CLOSURE, `connect timed out after ${this._settings.connectTimeout} ms`, false);
      }
    }, this._settings.connectTimeout);
  }

  /**
   * The connection is open for the page.
   * @param {{ recovered: boolean, reason?: string }} [resumeOutcome] with resume: what became of the
   * session, for the 'reconnected' event
   */
  _opened(resumeOutcome) {
    this._cancelTimer();
    this._state = OPEN_STATE;
    this._openedAt = this._now();
    const generation = this._generation;
    // Before 'open', so that messages go out in the order send() was called, whatever the page sends
    // from its open handler.
    const queued = this._queue;
    this._queue = [];
    this._queuedBytes = 0;
    for (const { data, size } of queued) {
      this._write(data, size);
    }
    this._startHeartbeat();
    this._dispatch(new Event('open'));
    if (this._reconnecting && generation === this._generation && this._state === OPEN_STATE) {
      this._reconnecting = false;
      this._dispatch(customEvent('reconnected', { attempt: this._attempt, ...resumeOutcome }));
    }
  }

  /** Hands a data message to the open socket: as it is, or numbered and escaped on a resume connection. */
  _write(data, size) {
    this._ws.send(this._speaking ? this._resume.write(data, size) : data);
  }

  _received(event) {
    this._lastLifeAt = this._now();
    if (this._state === HANDSHAKE_STATE) {
      this._receivedInHandshake(event);
      return;
    }
    this._receivedOpen(event);
  }

  /** A message on an open connection (or one whose close is under way). */
  _receivedOpen(event) {
    let { data } = event;
    if (this._speaking && !this._isHeartbeat(data)) {
      let inbound;
      try {
        inbound = unwrapInbound(data);
      } catch (error) {
        this._protocolError(error);
        return;
      }
      if (inbound.control) {
        this._controlReceived(inbound.control);
        return;
      }
      data = inbound.data;
      this._dataReceived(data);
    }
    this._deliver(data, event);
  }

  /** Whether a text is the application-level heartbeat, which is neither counted nor escaped (§2). */
  _isHeartbeat(data) {
    return data === this._settings.pingText || data === this._settings.pongText;
  }

  /** Dispatches a message to the page (heartbeats are answered or swallowed here). */
  _deliver(data, event) {
    if (typeof data === 'string') {
      if (data === this._settings.pongText) {
        return;
      }
      if (data === this._settings.pingText) {
        // A peer that pings us at the application level (e.g. the Java client in TEXT mode) gets the
        // same answer the server registry gives.
        if (this._ws.readyState === 1) {
          this._ws.send(this._settings.pongText);
        }
        return;
      }
    } else if (this._resume) {
      data = asBinaryType(data, this.binaryType);
    }
    this._dispatch(makeEvent('message', { data, origin: event.origin ?? '' }, globalThis.MessageEvent));
  }

  // ---- resume: handshake, acknowledgements, protocol errors ----

  /**
   * The native socket opened with the resume parameter. The client sends nothing and dispatches no 'open'
   * until it knows whether the server speaks the protocol: H as its first message, within the hello timeout.
   */
  _awaitHello() {
    this._cancelTimer();
    this._state = HANDSHAKE_STATE;
    this._presentedToken = false;
    this._startHandshakeTimer(() => this._plainConnection());
  }

  /** One timer per handshake step; the server's H and S each come within resumeHelloTimeout. */
  _startHandshakeTimer(onTimeout) {
    const generation = this._generation;
    this._cancelTimer();
    this._timer = this._setTimeout(() => {
      if (generation === this._generation && this._state === HANDSHAKE_STATE) {
        this._timer = null;
        onTimeout();
      }
    }, this._settings.resumeHelloTimeout);
  }

  _receivedInHandshake(event) {
    const { data } = event;
    if (!this._speaking) {
      if (data === `${NUL}H`) {
        this._helloReceived();
        return;
      }
      // A server that does not know the protocol: its first message is the application's.
      const generation = this._generation;
      this._plainConnection();
      if (generation === this._generation && this._state === OPEN_STATE) {
        this._deliver(data, event);
      }
      return;
    }
    // After H, the server owes S; only heartbeats may come before it.
    if (typeof data === 'string' && this._isHeartbeat(data)) {
      this._deliver(data, event);
      return;
    }
    let frame;
    try {
      frame = typeof data === 'string' && data.startsWith(NUL) ? parseControl(data) : null;
      if (frame?.type !== 'S') {
        throw new ResumeProtocolError('expected S');
      }
    } catch (error) {
      this._protocolError(error);
      return;
    }
    this._sessionReceived(frame);
  }

  _helloReceived() {
    this._speaking = true;
    const answer = this._resume.answerHello();
    this._presentedToken = answer.charAt(1) === 'R';
    this._ws.send(answer);
    this._startHandshakeTimer(() => {
      this._dropSocket();
      this._lost(ABNORMAL_CLOSURE, `resume: no session message within ${this._settings.resumeHelloTimeout} ms`, false);
    });
  }

  /** S: the session goes on (resend what the server lacks) or a new one starts (report what was lost). */
  _sessionReceived(frame) {
    let outcome;
    try {
      outcome = this._resume.establish(frame, this._presentedToken);
    } catch (error) {
      this._protocolError(error);
      return;
    }
    for (const wire of outcome.resend) {
      this._ws.send(wire);
    }
    const lost = outcome.lost;
    if (outcome.stateWasLost) {
      lost.push(...this._takeQueue());
    }
    this._openAfterHandshake({ recovered: outcome.recovered, reason: outcome.reason }, lost);
  }

  /** No H: this connection is a plain WebSocket; a session that existed cannot go on. */
  _plainConnection() {
    this._speaking = false;
    const { lost, stateWasLost } = this._resume.abandon();
    if (stateWasLost) {
      lost.push(...this._takeQueue());
    }
    this._openAfterHandshake({ recovered: false, reason: 'unsupported' }, lost);
  }

  /**
   * Reports the messages an unrecovered session lost, before 'open', so that the page knows them all by
   * 'reconnected'; what the page sends meanwhile is queued for this connection.
   */
  _openAfterHandshake(outcome, lost) {
    const generation = this._generation;
    for (const { data, size } of lost) {
      this._refused('not-recovered', data, size);
    }
    if (generation === this._generation && this._state === HANDSHAKE_STATE) {
      this._opened(outcome.recovered ? { recovered: true } : outcome);
    }
  }

  _controlReceived(frame) {
    if (frame.type !== 'A') {
      this._protocolError(new ResumeProtocolError(`unexpected ${frame.type} after the handshake`));
      return;
    }
    try {
      this._resume.acknowledge(frame.received);
    } catch (error) {
      this._protocolError(error);
    }
  }

  /** Counts a data message and acknowledges at 64 messages or 64 KiB at once, else 100 ms after the first. */
  _dataReceived(data) {
    if (this._resume.received(byteSize(data))) {
      this._sendAck();
    } else if (this._ackTimer === null) {
      const generation = this._generation;
      this._ackTimer = this._setTimeout(() => {
        this._ackTimer = null;
        if (generation === this._generation) {
          this._sendAck();
        }
      }, ACK_AFTER_MS);
    }
  }

  _sendAck() {
    this._cancelAckTimer();
    if (this._resume.hasPendingAcks && this._ws?.readyState === 1) {
      this._ws.send(this._resume.takeAck());
    }
  }

  _cancelAckTimer() {
    if (this._ackTimer !== null) {
      this._clearTimeout(this._ackTimer);
      this._ackTimer = null;
    }
  }

  /**
   * The server broke the protocol: close with 1002 and end for good (1002 does not reconnect). A browser
   * may not send 1002 itself (close() takes 1000 or 3000-4999 only), so there it closes without a code.
   */
  _protocolError(error) {
    const reason = `resume: ${error.message}`.slice(0, 123);
    const ws = this._ws;
    this._ws = null;
    this._generation++;
    try {
      ws.close(PROTOCOL_ERROR, reason);
    } catch {
      try {
        ws.close();
      } catch {
        // Already closing: nothing more to say to this peer.
      }
    }
    this._finish(PROTOCOL_ERROR, reason, false);
  }

  /** Takes every queued message out of the queue. */
  _takeQueue() {
    const queued = this._queue;
    this._queue = [];
    this._queuedBytes = 0;
    return queued;
  }

  /** Bytes counted against queueLimitBytes: queued, and with resume written but unacknowledged. */
  _heldBytes() {
    return this._queuedBytes + (this._resume?.unacknowledgedBytes ?? 0);
  }

  _nativeClosed(code, reason, wasClean) {
    this._ws = null;
    if (this._state === CLOSING_STATE) {
      this._finish(code, reason, wasClean);
    } else {
      this._lost(code, reason, wasClean);
    }
  }

  /** The connection is gone without the page's close(): reconnect or stay closed, by the close code. */
  _lost(code, reason, wasClean) {
    this._stopHeartbeat();
    this._cancelTimer();
    this._cancelAckTimer();
    this._ws = null;
    this._speaking = false;
    if (this._resume && !SESSION_KEEPING_CODES.has(code)) {
      // An intentional close ends the session (§5), even if a reconnect follows.
      this._resume.end();
    }
    const now = this._now();
    if (this._openedAt !== null && now - this._openedAt >= this._settings.stableAfter) {
      this._attempt = 0;
    }
    this._openedAt = null;
    if (!this._reconnectCodes.has(code) || this._attempt >= this._settings.maxAttempts) {
      this._finish(code, reason, wasClean);
      return;
    }
    this._attempt++;
    let delay = this._backoffDelay(this._attempt);
    if (code === TRY_AGAIN_LATER) {
      delay = Math.max(delay, this._settings.tryAgainLaterDelay);
    }
    this._state = WAITING_STATE;
    this._reconnecting = true;
    const generation = ++this._generation;
    if (this._offline) {
      delay = null;
    } else {
      this._timer = this._setTimeout(() => {
        if (generation === this._generation && this._state === WAITING_STATE) {
          this._timer = null;
          this._connect();
        }
      }, delay);
    }
    const attempt = this._attempt;
    this._dispatch(closeEvent(code, reason, wasClean, true));
    // The page may have called close() from its close handler.
    if (generation === this._generation && this._state === WAITING_STATE) {
      this._dispatch(customEvent('reconnecting', { attempt, delay, code, reason }));
    }
  }

  /** Closed for good. */
  _finish(code, reason, wasClean) {
    this._stopHeartbeat();
    this._cancelTimer();
    this._cancelAckTimer();
    this._ws = null;
    this._speaking = false;
    this._state = CLOSED_STATE;
    this._openedAt = null;
    this._reconnecting = false;
    this._removeNetworkListeners();
    // The session ends with the socket. After a clean close handshake the server had every message
    // written before it; otherwise the unacknowledged ones may be lost, and are reported like the queue.
    const unacknowledged = this._resume?.discard() ?? [];
    const discarded = [...(wasClean ? [] : unacknowledged), ...this._takeQueue()];
    this._dispatch(closeEvent(code, reason, wasClean, false));
    for (const { data, size } of discarded) {
      this._refused('closed', data, size);
    }
  }

  _closeTimedOut(generation) {
    if (generation === this._generation && this._state === CLOSING_STATE) {
      this._dropSocket();
      this._finish(this._closeCode ?? 1005, `close handshake timed out after ${this._settings.closeTimeout} ms`, false);
    }
  }

  /** Backoff as in spring-core's ExponentialBackOff, which the Java client uses. */
  _backoffDelay(attempt) {
    const { initialDelay, maxDelay, multiplier, jitter } = this._settings;
    const base = Math.min(initialDelay * multiplier ** (attempt - 1), maxDelay);
    const spread = jitter * base;
    const low = Math.max(base - spread, initialDelay);
    const high = Math.min(base + spread, maxDelay);
    return Math.round(low + this._random() * (high - low));
  }

  // ---- heartbeat ----
  // One pending timer per socket. Reads only record a timestamp; the check after a ping compares it
  // with the ping's time. A timer that a background tab delays late cannot cause a false death: only
  // the absence of any inbound message since the ping does.

  _startHeartbeat() {
    if (!(this._settings.heartbeatInterval > 0)) {
      return;
    }
    this._lastLifeAt = this._now();
    const generation = this._generation;
    this._heartbeatTimer = this._setTimeout(() => this._ping(generation), this._settings.heartbeatInterval);
  }

  _ping(generation) {
    if (generation !== this._generation || this._state !== OPEN_STATE) {
      return;
    }
    this._pingSentAt = this._now();
    if (this._ws.readyState === 1) {
      this._ws.send(this._settings.pingText);
    }
    this._heartbeatTimer = this._setTimeout(() => this._checkPong(generation), this._settings.heartbeatTimeout);
  }

  _checkPong(generation) {
    if (generation !== this._generation || this._state !== OPEN_STATE) {
      return;
    }
    if (this._lastLifeAt >= this._pingSentAt) {
      const next = Math.max(0, this._pingSentAt + this._settings.heartbeatInterval - this._now());
      this._heartbeatTimer = this._setTimeout(() => this._ping(generation), next);
      return;
    }
    const silence = this._now() - this._lastLifeAt;
    // Drop, do not close: a close handshake over a dead link would only wait for nothing.
    this._dropSocket();
    this._lost(ABNORMAL_CLOSURE, `heartbeat: no ${this._settings.pongText} within ${this._settings.heartbeatTimeout} ms`
      + ` (last sign of life ${silence} ms ago)`, false);
  }

  _stopHeartbeat() {
    if (this._heartbeatTimer !== null) {
      this._clearTimeout(this._heartbeatTimer);
      this._heartbeatTimer = null;
    }
  }

  // ---- the browser's network events ----

  _wentOffline() {
    this._offline = true;
    if (this._state === OPEN_STATE || this._state === CONNECTING_STATE || this._state === HANDSHAKE_STATE) {
      this._dropSocket();
      this._lost(ABNORMAL_CLOSURE, 'browser went offline', false);
    } else if (this._state === WAITING_STATE) {
      // Attempts would fail at once: wait for 'online' instead of spending them.
      this._cancelTimer();
    }
  }

  _cameOnline() {
    this._offline = false;
    if (this._state === WAITING_STATE) {
      this._cancelTimer();
      this._connect();
    }
  }

  _removeNetworkListeners() {
    if (this._network && typeof this._network.removeEventListener === 'function') {
      this._network.removeEventListener('offline', this._onOffline);
      this._network.removeEventListener('online', this._onOnline);
    }
  }

  // ---- helpers ----

  /** Forgets the current socket (its later events are stale) and closes it without waiting. */
  _dropSocket() {
    const ws = this._ws;
    this._ws = null;
    this._generation++;
    if (!ws) {
      return;
    }
    try {
      // The ws package (Node) can drop the TCP connection; a browser can only start a close handshake.
      if (typeof ws.terminate === 'function') {
        ws.terminate();
      } else if (this._resume) {
        // A close without a code would tell the server the page ended its session on purpose. This one
        // says the connection was given up for lost, so the session waits for the resume that follows
        // (docs/RESUME-PROTOCOL.md §5); browsers may send only 1000 and 3000-4999.
        ws.close(CONNECTION_GIVEN_UP, 'connection given up');
      } else {
        ws.close();
      }
    } catch {
      // Already closing or closed: nothing left to drop.
    }
  }

  _cancelTimer() {
    if (this._timer !== null) {
      this._clearTimeout(this._timer);
      this._timer = null;
    }
  }

  _refused(reason, data, size) {
    this._dispatch(customEvent('senderror', {
      reason, data, size, queuedBytes: this._heldBytes(), limit: this._settings.queueLimitBytes,
    }));
  }

  _dispatch(event) {
    this.dispatchEvent(event);
  }
}

// ---- session resume (docs/RESUME-PROTOCOL.md) ----

/** The query parameter that asks the server for resume, with the protocol version as its value. */
export const RESUME_QUERY_PARAMETER = 'rws-resume';

/** The close code a resuming client sends on a connection it gives up for lost (RESUME-PROTOCOL §5). */
export const CONNECTION_GIVEN_UP = 3006;
const RESUME_VERSION = '1';

const NUL = '\u0000';
/** Receivers acknowledge at this many unacknowledged data messages, ... */
const ACK_AFTER_MESSAGES = 64;
/** ... or this many unacknowledged bytes, ... */
const ACK_AFTER_BYTES = 64 * 1024;
/** ... or this long after the first unacknowledged one, whichever comes first (§4). */
const ACK_AFTER_MS = 100;
/** Decimal, no sign, no leading zeros (§2); 16 digits at most, the bound to 2^53 − 1 is checked after. */
const COUNT = /^(0|[1-9][0-9]{0,15})$/;
const TOKEN = /^[A-Za-z0-9_-]{22,86}$/;
const REFUSAL_REASONS = new Set(['expired', 'overflow', 'unknown', 'principal', 'endpoint', 'reused']);
/** Longer than any valid control message: refused before it is split. */
const MAX_CONTROL_LENGTH = 160;

/** The peer broke the resume protocol; the connection is closed with 1002. Messages never quote the input. */
class ResumeProtocolError extends Error {}

/** The URL with the resume parameter added to its query (any existing query kept, a fragment left last). */
function withResumeParameter(url) {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? '' : url.slice(hash);
  const separator = !base.includes('?') ? '?' : (base.endsWith('?') || base.endsWith('&') ? '' : '&');
  return `${base}${separator}${RESUME_QUERY_PARAMETER}=${RESUME_VERSION}${fragment}`;
}

/** The inverse of withResumeParameter for a URL as the native socket reports it (perhaps normalized). */
function withoutResumeParameter(url) {
  const parameter = `${RESUME_QUERY_PARAMETER}=${RESUME_VERSION}`;
  return url
    .replace(new RegExp(`\\?${parameter}(?=#|$)`), '')
    .replace(new RegExp(`&${parameter}(?=#|$)`), '');
}

/** The bytes of a binary message, as a view (no copy). */
function bytesOf(data) {
  if (data instanceof ArrayBuffer) {
    return new Uint8Array(data);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The wire form of an application's message (§2): as it is, unless it starts with NUL, which is then doubled.
 * Binary data is copied, so that a buffer the page reuses after send() cannot change what a resume resends.
 */
function escapeData(data) {
  if (typeof data === 'string') {
    return data.startsWith(NUL) ? NUL + data : data;
  }
  const bytes = bytesOf(data);
  if (bytes.length > 0 && bytes[0] === 0) {
    const escaped = new Uint8Array(bytes.length + 1);
    escaped.set(bytes, 1);
    return escaped;
  }
  return bytes.slice();
}

/**
 * Reads one inbound message of a connection that speaks the protocol (§2).
 * @returns {{ data: string|ArrayBuffer } | { control: object }} the application's message, unescaped, or a
 * parsed control message
 * @throws {ResumeProtocolError} on anything else that starts with NUL
 */
function unwrapInbound(data) {
  if (typeof data === 'string') {
    if (!data.startsWith(NUL)) {
      return { data };
    }
    if (data.charAt(1) === NUL) {
      return { data: data.slice(1) };
    }
    return { control: parseControl(data) };
  }
  const bytes = bytesOf(data);
  const buffer = data instanceof ArrayBuffer ? data : bytes.slice().buffer;
  if (bytes.length === 0 || bytes[0] !== 0) {
    return { data: buffer };
  }
  if (bytes.length > 1 && bytes[1] === 0) {
    return { data: buffer.slice(1) };
  }
  throw new ResumeProtocolError('binary message starting with one NUL');
}

/** Parses a control message sent by a server: H, S or A (N and R only go the other way). */
function parseControl(text) {
  if (text.length > MAX_CONTROL_LENGTH) {
    throw new ResumeProtocolError('control message too long');
  }
  const kind = text.charAt(1);
  if (!/^[A-Za-z]$/.test(kind)) {
    throw new ResumeProtocolError('NUL followed by neither NUL nor a letter');
  }
  if (text.length > 2 && text.charAt(2) !== ' ') {
    throw new ResumeProtocolError(`malformed ${kind}`);
  }
  const fields = text.length === 2 ? [] : text.slice(3).split(' ');
  switch (kind) {
    case 'H':
      expectFields(fields, [0], kind);
      return { type: 'H' };
    case 'S': {
      expectFields(fields, [3, 4], kind);
      const [token, received, recovered, reason] = fields;
      if (!TOKEN.test(token)) {
        throw new ResumeProtocolError('S: malformed token');
      }
      if (recovered !== '0' && recovered !== '1') {
        throw new ResumeProtocolError('S: recovered must be 0 or 1');
      }
      if (reason !== undefined && (recovered === '1' || !REFUSAL_REASONS.has(reason))) {
        throw new ResumeProtocolError('S: unexpected reason');
      }
      return {
        type: 'S', token, received: parseCount(received, kind), recovered: recovered === '1', reason,
      };
    }
    case 'A':
      expectFields(fields, [1], kind);
      return { type: 'A', received: parseCount(fields[0], kind) };
    default:
      throw new ResumeProtocolError(`unexpected control message ${kind}`);
  }
}

function expectFields(fields, counts, kind) {
  if (!counts.includes(fields.length)) {
    throw new ResumeProtocolError(`${kind}: wrong number of fields`);
  }
}

function parseCount(field, kind) {
  const value = COUNT.test(field) ? Number(field) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new ResumeProtocolError(`${kind}: malformed count`);
  }
  return value;
}

/**
 * One resume session of a client, across its connections: the token to present next, the data messages
 * written and not yet acknowledged by the server (to write again after a resume), and the count of data
 * messages received (to acknowledge, and to present in R). It knows nothing of sockets and timers: the
 * client tells it what it writes and receives, and writes what it returns.
 */
class ResumeSession {
  /** The credential for the next resume, or null: private, never in an event, an error or a log (§5). */
  #token = null;
  /** Whether a session was established and not yet given up: a new session then means state was lost. */
  #established = false;
  #written = 0;
  #acknowledged = 0;
  /** Written, unacknowledged data messages, oldest first: { data, wire, size }; #head entries are done. */
  #unacknowledged = [];
  #head = 0;
  #unacknowledgedBytes = 0;
  #received = 0;
  #pendingAcks = 0;
  #pendingAckBytes = 0;

  /** Bytes written but not yet acknowledged (the application's sizes, as the queue limit counts them). */
  get unacknowledgedBytes() {
    return this.#unacknowledgedBytes;
  }

  /** Whether data messages were received that the server has not been told about. */
  get hasPendingAcks() {
    return this.#pendingAcks > 0;
  }

  /**
   * The answer to H: R to resume the session, or N when there is none to resume. R carries the count of
   * messages received, so it acknowledges them all.
   */
  answerHello() {
    if (this.#token === null) {
      return `${NUL}N`;
    }
    this.#clearPendingAcks();
    return `${NUL}R ${this.#token} ${this.#received}`;
  }

  /**
   * The server's S, answering the client's N (`resumed` false) or R (`resumed` true).
   * @returns {{ recovered: boolean, reason?: string, resend: Array, lost: Array }} what to write again, in
   * order (on a resume), and the messages of the old session that are lost (when it was not recovered)
   * @throws {ResumeProtocolError} when S contradicts what was asked or what was written
   */
  establish(frame, resumed) {
    if (frame.recovered && !resumed) {
      throw new ResumeProtocolError('S: recovered a session that was not asked for');
    }
    if (!frame.recovered && frame.received !== 0) {
      throw new ResumeProtocolError('S: a new session has received nothing');
    }
    this.#token = frame.token;
    if (frame.recovered) {
      this.acknowledge(frame.received);
      this.#established = true;
      return { recovered: true, resend: this.#unacknowledged.slice(this.#head).map((entry) => entry.wire), lost: [] };
    }
    const stateWasLost = this.#established;
    const lost = this.#startOver();
    this.#established = true;
    // A refused resume has the server's reason; a new session the client asked for (N) has none.
    return {
      recovered: false, reason: frame.reason ?? (resumed ? 'refused' : 'new-session'), resend: [], lost, stateWasLost,
    };
  }

  /**
   * Numbers a data message written to a transport for the first time, and keeps it until acknowledged.
   * @returns the message's wire form
   */
  write(data, size) {
    const wire = escapeData(data);
    this.#written++;
    this.#unacknowledged.push({ data, wire, size });
    this.#unacknowledgedBytes += size;
    return wire;
  }

  /** The server has received `received` data messages of this session (A, or the count in S). */
  acknowledge(received) {
    if (received < this.#acknowledged || received > this.#written) {
      throw new ResumeProtocolError('acknowledgement out of range');
    }
    while (this.#acknowledged < received) {
      const entry = this.#unacknowledged[this.#head];
      this.#unacknowledged[this.#head++] = undefined;
      this.#unacknowledgedBytes -= entry.size;
      this.#acknowledged++;
    }
    // Compacts now and then, so that a long session does not keep a long array of holes.
    if (this.#head > 1024 && this.#head * 2 > this.#unacknowledged.length) {
      this.#unacknowledged = this.#unacknowledged.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * A data message of `size` bytes was received.
   * @returns {boolean} whether an acknowledgement is due at once (64 messages or 64 KiB pending)
   */
  received(size) {
    this.#received++;
    this.#pendingAcks++;
    this.#pendingAckBytes += size;
    return this.#pendingAcks >= ACK_AFTER_MESSAGES || this.#pendingAckBytes >= ACK_AFTER_BYTES;
  }

  /** The acknowledgement of everything received so far. */
  takeAck() {
    this.#clearPendingAcks();
    return `${NUL}A ${this.#received}`;
  }

  /**
   * The session ended by an intentional close (§5), but the client reconnects: the next connection starts
   * a new session (N). What was not acknowledged is reported lost when that one starts.
   */
  end() {
    this.#token = null;
  }

  /**
   * The server did not speak the protocol: the session is gone for good.
   * @returns {{ lost: Array, stateWasLost: boolean }}
   */
  abandon() {
    const stateWasLost = this.#established;
    this.#token = null;
    this.#established = false;
    return { lost: this.#startOver(), stateWasLost };
  }

  /** Closed for good: forgets everything. @returns the unacknowledged messages, oldest first */
  discard() {
    this.#token = null;
    this.#established = false;
    return this.#startOver();
  }

  /** Numbering restarts at 0 in both directions; returns what was unacknowledged. */
  #startOver() {
    const lost = this.#unacknowledged.slice(this.#head);
    this.#unacknowledged = [];
    this.#head = 0;
    this.#unacknowledgedBytes = 0;
    this.#written = 0;
    this.#acknowledged = 0;
    this.#received = 0;
    this.#clearPendingAcks();
    return lost;
  }

  #clearPendingAcks() {
    this.#pendingAcks = 0;
    this.#pendingAckBytes = 0;
  }
}

/** An inbound ArrayBuffer as the page asked for it (binaryType); the native socket of a resume client reads arraybuffer. */
function asBinaryType(buffer, binaryType) {
  if (binaryType === 'blob' && typeof Blob === 'function') {
    return new Blob([buffer]);
  }
  if (binaryType === 'nodebuffer' && typeof globalThis.Buffer === 'function') {
    return globalThis.Buffer.from(buffer);
  }
  return buffer;
}

function closeEvent(code, reason, wasClean, willReconnect) {
  const event = makeEvent('close', { code, reason, wasClean }, globalThis.CloseEvent);
  Object.defineProperty(event, 'willReconnect', { value: willReconnect, enumerable: true });
  return event;
}

function customEvent(type, detail) {
  return makeEvent(type, { detail }, globalThis.CustomEvent);
}

/** The platform's event class where it has one (CloseEvent is missing in Node 20), else an Event with the fields. */
function makeEvent(type, init, EventClass) {
  if (typeof EventClass === 'function') {
    return new EventClass(type, init);
  }
  const event = new Event(type);
  for (const [name, value] of Object.entries(init)) {
    Object.defineProperty(event, name, { value, enumerable: true });
  }
  return event;
}

/** Bytes a message takes on the wire: UTF-8 for text, as the queue limit counts them. */
function byteSize(data) {
  if (typeof data === 'string') {
    return utf8Length(data);
  }
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    return data.byteLength;
  }
  if (typeof Blob !== 'undefined' && data instanceof Blob) {
    return data.size;
  }
  return utf8Length(String(data));
}

function utf8Length(text) {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) {
      bytes += 1;
    } else if (unit < 0x800) {
      bytes += 2;
    } else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length
      && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff) {
      bytes += 4; // a surrogate pair: one code point of 4 bytes
      i++;
    } else {
      bytes += 3; // includes a lone surrogate, which encodes as U+FFFD
    }
  }
  return bytes;
}

export default ResilientWebSocket;
