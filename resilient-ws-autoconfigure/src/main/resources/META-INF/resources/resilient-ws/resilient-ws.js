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
const TRY_AGAIN_LATER = 1013;

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
  /** Bytes (UTF-8 for text) that may wait while disconnected; 0 refuses sends while disconnected. */
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
});

// Internal states. readyState reads 'waiting' (lost, next attempt pending) as CONNECTING, as in
// reconnecting-websocket: to the page the socket is on its way to OPEN again.
const CONNECTING_STATE = 'connecting';
const OPEN_STATE = 'open';
const CLOSING_STATE = 'closing';
const CLOSED_STATE = 'closed';
const WAITING_STATE = 'waiting';

const READY_STATES = {
  [CONNECTING_STATE]: 0,
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
 * - 'reconnected' (CustomEvent) after the 'open' that ends a reconnect series: detail { attempt }.
 * - 'senderror' (CustomEvent) whenever send() refuses a message, and for every queued message that is
 *   discarded because the socket closed for good: detail { reason: 'queue-full' | 'closed', data, size,
 *   queuedBytes, limit }.
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

  get url() {
    return this._ws?.url ?? this._url;
  }

  /** The subprotocol the server chose on the current connection, or ''. */
  get protocol() {
    return this._ws?.protocol ?? '';
  }

  get extensions() {
    return this._ws?.extensions ?? '';
  }

  /** Bytes handed to the socket but not yet sent, plus bytes queued while disconnected. */
  get bufferedAmount() {
    const inSocket = this._ws && (this._state === OPEN_STATE || this._state === CLOSING_STATE)
      ? (this._ws.bufferedAmount ?? 0) : 0;
    return inSocket + this._queuedBytes;
  }

  get binaryType() {
    return this._binaryType ?? this._ws?.binaryType ?? 'blob';
  }

  /** Applies to the current socket and to every socket of later reconnects. */
  set binaryType(type) {
    this._binaryType = type;
    if (this._ws) {
      this._ws.binaryType = type;
    }
  }

  /**
   * Sends now if open, queues if connecting or waiting to reconnect.
   * @returns {boolean} true if sent or queued; false if refused, in which case a 'senderror' event says
   * why: 'queue-full' (disconnected, and the message does not fit in queueLimitBytes) or 'closed'
   * (close() was called, or the socket closed for good).
   */
  send(data) {
    if (this._state === OPEN_STATE && this._ws.readyState === 1) {
      this._ws.send(data);
      return true;
    }
    if (this._state === CLOSING_STATE || this._state === CLOSED_STATE) {
      this._refused('closed', data, byteSize(data));
      return false;
    }
    // Connecting, waiting, or open while the socket's close handshake is already under way (its close
    // event is on its way): hold the message for the next connection rather than lose it.
    const size = byteSize(data);
    if (this._queuedBytes + size > this._settings.queueLimitBytes) {
      this._refused('queue-full', data, size);
      return false;
    }
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
    if (this._state === OPEN_STATE) {
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
    let ws;
    try {
      ws = this._protocols === undefined
        ? new this._NativeWebSocket(this._url)
        : new this._NativeWebSocket(this._url, this._protocols);
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
    if (this._binaryType !== undefined) {
      ws.binaryType = this._binaryType;
    }
    const current = () => generation === this._generation;
    ws.onopen = () => current() && this._opened();
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

  _opened() {
    this._cancelTimer();
    this._state = OPEN_STATE;
    this._openedAt = this._now();
    const generation = this._generation;
    // Before 'open', so that messages go out in the order send() was called, whatever the page sends
    // from its open handler.
    const queued = this._queue;
    this._queue = [];
    this._queuedBytes = 0;
    for (const { data } of queued) {
      this._ws.send(data);
    }
    this._startHeartbeat();
    this._dispatch(new Event('open'));
    if (this._reconnecting && generation === this._generation && this._state === OPEN_STATE) {
      this._reconnecting = false;
      this._dispatch(customEvent('reconnected', { attempt: this._attempt }));
    }
  }

  _received(event) {
    this._lastLifeAt = this._now();
    const { data } = event;
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
    }
    this._dispatch(makeEvent('message', { data, origin: event.origin ?? '' }, globalThis.MessageEvent));
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
    this._ws = null;
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
    this._ws = null;
    this._state = CLOSED_STATE;
    this._openedAt = null;
    this._reconnecting = false;
    this._removeNetworkListeners();
    const discarded = this._queue;
    this._queue = [];
    this._queuedBytes = 0;
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
    if (this._state === OPEN_STATE || this._state === CONNECTING_STATE) {
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
      reason, data, size, queuedBytes: this._queuedBytes, limit: this._settings.queueLimitBytes,
    }));
  }

  _dispatch(event) {
    this.dispatchEvent(event);
  }
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
