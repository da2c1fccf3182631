// A WebSocket client on Node's `ws` package: an independent peer for resilient-ws's server registry.
//
// Started by the Java tests as a child process: `node ws-client.mjs <url> [--no-pong] [--pause] [--app-ping]`.
// It prints one line per event on stdout (`open`, `message <text>`, `close <code> <reason>`, `paused`)
// and exits when its standard input closes, so it never outlives the JVM that started it.
// - `--no-pong`: ping frames go unanswered (ws's `autoPong: false`), like a client that hung.
// - `--pause`: once open, the client stops reading its socket, like a client that cannot keep up;
//   TCP back-pressure then fills the server's send buffer for it.
// - `--app-ping`: once open, sends the application-level heartbeat `__rws_ping__`, as a browser does.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'no-pong': { type: 'boolean', default: false },
    pause: { type: 'boolean', default: false },
    'app-ping': { type: 'boolean', default: false },
  },
});

const log = (line) => process.stdout.write(`${line}\n`);
const ws = new WebSocket(positionals[0], { autoPong: !values['no-pong'] });

ws.on('open', () => {
  log('open');
  if (values['app-ping']) {
    ws.send('__rws_ping__');
  }
  if (values.pause) {
    ws._socket.pause();
    log('paused');
  }
});
ws.on('message', (data) => log(`message ${data.toString().slice(0, 80)}`));
ws.on('close', (code, reason) => log(`close ${code} ${reason.toString()}`));
ws.on('error', (error) => log(`error ${error.message}`));

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
