// A WebSocket server on Node's `ws` package: a real, independent peer for resilient-ws's clients.
//
// Used two ways:
// - imported by the browser client's tests: `await startPeerServer({ ... })`;
// - started by the Java tests as a child process: `node ws-server.mjs [--protocols a,b] [--no-pong]`.
//   It prints one line per event on stdout, the first being `listening <port>`, and exits when its
//   standard input closes, so it never outlives the JVM that started it.
//
// What every connection does:
// - text and binary messages are echoed back and recorded;
// - the application-level heartbeat `__rws_ping__` is answered with `__rws_pong__` (as the server
//   registry does), and neither echoed nor recorded;
// - `close:<code>` or `close:<code>:<reason>` makes the server close the connection with that code;
// - `terminate` makes the server drop the TCP connection without a close frame (the client sees 1006).
// With `answerPings: false` (`--no-pong`) the server ignores both heartbeats: no automatic pong to ping
// frames (ws's `autoPong: false`) and no reply to `__rws_ping__`, like a peer that hung.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

export const PING_TEXT = '__rws_ping__';
export const PONG_TEXT = '__rws_pong__';

/**
 * Starts a server on 127.0.0.1.
 * @param {object} [options]
 * @param {number} [options.port] 0 (the default) for a free port
 * @param {string[]} [options.protocols] subprotocols supported; the first one the client offers wins
 * @param {boolean} [options.answerPings] whether heartbeats (frames and text) are answered (default true)
 * @param {(line: string) => void} [options.log] receives one line per event
 */
export function startPeerServer({ port = 0, protocols = [], answerPings = true, log = () => {} } = {}) {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port,
    autoPong: answerPings,
    // Mirrors Spring's choice: the first protocol in the client's list that the server supports.
    handleProtocols: (offered) => [...offered].find((protocol) => protocols.includes(protocol)) ?? false,
  });
  const peer = {
    port: 0,
    /** Messages received (text as strings, binary as Buffers), in order, without commands and heartbeats. */
    received: [],
    /** Text pings received. */
    textPings: 0,
    /** Opened connections, in order. */
    connections: [],
    /** The request URL (path and query) of each connection, in order. */
    urls: [],
    /** Whether text heartbeats are answered; may be switched off while running (ping frames: see autoPong). */
    answerPings,
    /** Drops every connection without a close frame. */
    terminateAll() {
      wss.clients.forEach((ws) => ws.terminate());
    },
    closeAll(code, reason) {
      wss.clients.forEach((ws) => ws.close(code, reason));
    },
    /** Stops listening and drops every connection. */
    close() {
      wss.clients.forEach((ws) => ws.terminate());
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
  let count = 0;
  wss.on('connection', (ws, request) => {
    const id = ++count;
    peer.connections.push(ws);
    peer.urls.push(request.url);
    log(`open ${id} protocol=${ws.protocol}`);
    ws.on('ping', () => log(`ping ${id}`));
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString('utf8');
      if (text === PING_TEXT) {
        peer.textPings++;
        log(`textping ${id}`);
        if (peer.answerPings) {
          ws.send(PONG_TEXT);
        }
        return;
      }
      const close = text?.match(/^close:(\d+)(?::(.*))?$/s);
      if (close) {
        try {
          ws.close(Number(close[1]), close[2] ?? '');
        } catch (error) {
          // A code no endpoint may send (1005, 1006, 1015, ...): ws refuses it, the peer stays up.
          log(`error ${id} ${error.message}`);
        }
        return;
      }
      if (text === 'terminate') {
        ws.terminate();
        return;
      }
      peer.received.push(isBinary ? data : text);
      log(isBinary ? `binary ${id} ${data.length}` : `message ${id} ${text}`);
      ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code, reason) => log(`close ${id} ${code} ${reason.toString('utf8')}`));
    ws.on('error', (error) => log(`error ${id} ${error.message}`));
  });
  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => {
      peer.port = wss.address().port;
      resolve(peer);
    });
  });
}

// Run as a program: start, report, and live as long as the parent keeps our stdin open.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      protocols: { type: 'string', default: '' },
      'no-pong': { type: 'boolean', default: false },
    },
  });
  const peer = await startPeerServer({
    port: Number(values.port),
    protocols: values.protocols.split(',').filter(Boolean),
    answerPings: !values['no-pong'],
    log: (line) => process.stdout.write(`${line.replaceAll('\n', '\\n')}\n`),
  });
  process.stdout.write(`listening ${peer.port}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => process.exit(0));
}
