// A reference peer of the server side of the resume protocol (docs/RESUME-PROTOCOL.md), on Node's `ws`
// package, for the browser client's tests only. Written from the specification, independently of the
// client, so that the two check each other: numbering of written data messages, cumulative
// acknowledgements (64 messages, 64 KiB or 100 ms), a token map with a token rotated on every S, a
// resume window, refusals, and abrupt cuts of a transport (socket.terminate(), no close frame).
//
// The application on this side records every data message a session receives, and sends what a test
// asks it to (session.send). Heartbeat texts are answered and never counted.
import crypto from 'node:crypto';
import { WebSocketServer } from 'ws';

export const PING_TEXT = '__rws_ping__';
export const PONG_TEXT = '__rws_pong__';

const NUL = '\u0000';
const KEEPING_CODES = new Set([1001, 1006, 1011, 1012, 1013]);

/** A fresh token: 128 random bits, base64url, 22 characters. */
function newToken() {
  return crypto.randomBytes(16).toString('base64url');
}

/** The wire form of an application's message: a leading NUL is doubled. */
function escape(data, isBinary) {
  if (!isBinary) {
    return data.startsWith(NUL) ? NUL + data : data;
  }
  return data.length > 0 && data[0] === 0 ? Buffer.concat([Buffer.from([0]), data]) : data;
}

/** One logical session, across transports. */
class PeerSession {
  constructor(peer, id) {
    this.peer = peer;
    this.id = id;
    this.token = newToken();
    /** Application messages received, in order: strings for text, Buffers for binary. */
    this.received = [];
    /** Data messages written to a transport (the offset of the last one). */
    this.written = 0;
    /** How many of ours the client has acknowledged. */
    this.acknowledged = 0;
    /** Written and unacknowledged: { offset, wire, isBinary }, oldest first. */
    this.unacknowledged = [];
    /** Sent by the application while detached: written (and numbered) on the next resume. */
    this.held = [];
    this.receivedCount = 0;
    this.pendingAcks = 0;
    this.pendingAckBytes = 0;
    this.ackTimer = null;
    /** The attached transport, or null while detached. */
    this.ws = null;
    this.detachedAt = null;
    this.ended = false;
    /** Acknowledgements received from the client, in order (their counts). */
    this.acksReceived = [];
  }

  /** The application sends a message to the client. */
  send(data) {
    const isBinary = typeof data !== 'string';
    const payload = isBinary ? Buffer.from(data) : data;
    if (this.ws === null) {
      this.held.push({ data: payload, isBinary });
      return;
    }
    this.#write(payload, isBinary);
  }

  #write(data, isBinary) {
    const wire = escape(data, isBinary);
    this.written++;
    this.unacknowledged.push({ offset: this.written, wire, isBinary });
    this.ws.send(wire, { binary: isBinary });
  }

  acknowledge(received) {
    if (received < this.acknowledged || received > this.written) {
      throw new Error(`acknowledgement ${received} out of range [${this.acknowledged}, ${this.written}]`);
    }
    this.acknowledged = received;
    while (this.unacknowledged.length > 0 && this.unacknowledged[0].offset <= received) {
      this.unacknowledged.shift();
    }
  }

  /** Attaches a transport after S: resends what the client lacks, then what was held while detached. */
  attach(ws) {
    this.ws = ws;
    this.detachedAt = null;
    for (const { wire, isBinary } of this.unacknowledged) {
      ws.send(wire, { binary: isBinary });
    }
    const held = this.held.splice(0);
    for (const { data, isBinary } of held) {
      this.#write(data, isBinary);
    }
  }

  detach() {
    this.ws = null;
    this.detachedAt = Date.now();
    this.#cancelAck();
  }

  /** A data message of the client arrived (unescaped): counted, recorded, and acknowledged in time. */
  dataReceived(data, size) {
    this.receivedCount++;
    this.received.push(data);
    this.pendingAcks++;
    this.pendingAckBytes += size;
    if (this.pendingAcks >= 64 || this.pendingAckBytes >= 64 * 1024) {
      this.sendAck();
    } else if (this.ackTimer === null && this.peer.ackDelay !== Infinity) {
      this.ackTimer = setTimeout(() => {
        this.ackTimer = null;
        this.sendAck();
      }, this.peer.ackDelay);
    }
  }

  sendAck() {
    this.#cancelAck();
    if (this.pendingAcks > 0 && this.ws?.readyState === 1) {
      this.pendingAcks = 0;
      this.pendingAckBytes = 0;
      this.ws.send(`${NUL}A ${this.receivedCount}`);
    }
  }

  /** S and R acknowledge: nothing is pending after them. */
  clearPendingAcks() {
    this.#cancelAck();
    this.pendingAcks = 0;
    this.pendingAckBytes = 0;
  }

  end() {
    this.ended = true;
    this.#cancelAck();
    this.peer.tokens.delete(this.token);
  }

  #cancelAck() {
    if (this.ackTimer !== null) {
      clearTimeout(this.ackTimer);
      this.ackTimer = null;
    }
  }
}

/**
 * Starts the peer on 127.0.0.1, on a free port.
 * @param {object} [options]
 * @param {number} [options.window] ms a detached session may be resumed (default 120000)
 * @param {number} [options.ackDelay] ms after the first unacknowledged message (default 100; Infinity: only thresholds)
 */
export function startResumePeer({ window = 120_000, ackDelay = 100 } = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const peer = {
    port: 0,
    window,
    ackDelay,
    /** Text pongs received (answers to the pings a test sends on a transport). */
    pongs: 0,
    /** When set, every R is refused with this reason (and the old session ends). */
    refuseWith: null,
    /** Current token -> session. */
    tokens: new Map(),
    /** Every session, in order of creation. */
    sessions: [],
    /** Every transport: { ws, url, controls (control messages received, as sent), closed: [code, reason] }. */
    transports: [],
    /** Answers to hand to the client instead of H, for tests of malformed peers: (ws) => void. */
    onConnection: null,
    get session() {
      return this.sessions.at(-1);
    },
    /** Drops the transport of the newest session without a close frame (the client sees 1006). */
    cut() {
      this.session?.ws?.terminate();
    },
    /** Forgets every session, as an instance restarted without cluster mode does. */
    forgetSessions() {
      this.tokens.clear();
    },
    close() {
      wss.clients.forEach((ws) => ws.terminate());
      this.sessions.forEach((session) => session.end());
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };

  wss.on('connection', (ws, request) => {
    const transport = { ws, url: request.url, controls: [], closed: null };
    peer.transports.push(transport);
    const query = new URL(request.url, 'ws://peer').searchParams;
    if (peer.onConnection) {
      peer.onConnection(ws, transport);
      return;
    }
    if (query.get('rws-resume') !== '1') {
      ws.close(1008, 'this peer only speaks resume');
      return;
    }
    let session = null;
    ws.send(`${NUL}H`);
    ws.on('message', (raw, isBinary) => {
      try {
        const text = isBinary ? null : raw.toString('utf8');
        if (text === PING_TEXT) {
          ws.send(PONG_TEXT);
          return;
        }
        if (text === PONG_TEXT) {
          peer.pongs++;
          return;
        }
        if (text !== null && text.startsWith(NUL) && text.charAt(1) !== NUL) {
          transport.controls.push(text);
          session = control(ws, session, text);
          return;
        }
        if (session === null) {
          throw new Error('data before the handshake');
        }
        if (isBinary && raw.length > 0 && raw[0] === 0 && raw[1] !== 0) {
          throw new Error('binary message with one leading NUL');
        }
        const data = isBinary ? (raw[0] === 0 ? raw.subarray(1) : raw) : text.replace(/^\u0000\u0000/, NUL);
        session.dataReceived(data, isBinary ? data.length : Buffer.byteLength(data));
      } catch (error) {
        transport.error = error.message;
        ws.close(1002, 'protocol error');
      }
    });
    ws.on('close', (code, reason) => {
      transport.closed = [code, reason.toString('utf8')];
      if (session === null || session.ws !== ws) {
        return;
      }
      if (KEEPING_CODES.has(code)) {
        session.detach();
      } else {
        session.detach();
        session.end();
      }
    });
    ws.on('error', () => {});
  });

  /** Handles one control message; returns the transport's session. */
  function control(ws, session, text) {
    const [kind, ...fields] = text.slice(1).split(' ');
    if (session === null && kind === 'N' && fields.length === 0) {
      const fresh = newSession();
      ws.send(`${NUL}S ${fresh.token} 0 0`);
      fresh.attach(ws);
      return fresh;
    }
    if (session === null && kind === 'R' && fields.length === 2) {
      return resume(ws, fields[0], Number(fields[1]));
    }
    if (session !== null && kind === 'A' && fields.length === 1) {
      session.acksReceived.push(Number(fields[0]));
      session.acknowledge(Number(fields[0]));
      return session;
    }
    throw new Error(`unexpected control message ${kind}`);
  }

  function resume(ws, token, clientReceived) {
    const old = peer.tokens.get(token);
    let reason = null;
    if (!old) {
      reason = 'unknown';
    } else if (peer.refuseWith) {
      reason = peer.refuseWith;
    } else if (old.ws === null && Date.now() - old.detachedAt > peer.window) {
      reason = 'expired';
    }
    if (reason !== null) {
      old?.ws?.terminate();
      old?.end();
      const fresh = newSession();
      ws.send(`${NUL}S ${fresh.token} 0 0 ${reason}`);
      fresh.attach(ws);
      return fresh;
    }
    // The old transport may not have noticed its loss yet: the new one takes over.
    if (old.ws !== null) {
      const stale = old.ws;
      old.detach();
      stale.terminate();
    }
    old.acknowledge(clientReceived);
    peer.tokens.delete(old.token);
    old.token = newToken();
    peer.tokens.set(old.token, old);
    old.clearPendingAcks();
    ws.send(`${NUL}S ${old.token} ${old.receivedCount} 1`);
    old.attach(ws);
    return old;
  }

  function newSession() {
    const session = new PeerSession(peer, peer.sessions.length + 1);
    peer.sessions.push(session);
    peer.tokens.set(session.token, session);
    return session;
  }

  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => {
      peer.port = wss.address().port;
      resolve(peer);
    });
  });
}
