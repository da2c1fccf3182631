// The browser client with resume on, in Node (the `ws` package for the browser's WebSocket), against the
// real Java server: it sends <count> texts c-0 … c-<count-1> (one in seven starting with NUL) and checks
// that the server's own texts s-0 … and the echoes of its texts arrive each once, in order, across the
// reconnects the Java test causes by cutting its TCP proxy.
//
// Started by the Java tests: `node resume-probe.mjs <url> <count>`. Prints `open`, `reconnected
// <recovered> <reason>` after each reconnect, `error <what>` when something arrives out of order or
// twice, `progress <server texts> <echoes>` every 500 ms and `done` once it has every server text and
// every echo; exits when its standard input closes.
import WebSocket from 'ws';

import { ResilientWebSocket } from '../../main/resources/META-INF/resources/resilient-ws/resilient-ws.js';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
const log = (line) => process.stdout.write(`${line}\n`);
const text = (prefix, i) => (i % 7 === 3 ? '\u0000' : '') + `${prefix}-${i}`;

const socket = new ResilientWebSocket(url, undefined, {
  WebSocket, resume: true, initialDelay: 50, maxDelay: 200, jitter: 0, queueLimitBytes: 4 * 1024 * 1024,
});
const next = { s: 0, c: 0 };
let done = false;

socket.addEventListener('open', () => log('open'), { once: true });
socket.addEventListener('reconnected', (event) => log(`reconnected ${event.detail.recovered} ${event.detail.reason ?? ''}`));
socket.addEventListener('senderror', (event) => log(`error not sent (${event.detail.reason}): ${event.detail.data}`));
socket.addEventListener('message', (event) => {
  const data = String(event.data);
  const prefix = data.replace('\u0000', '').charAt(0);
  if (data !== text(prefix, next[prefix])) {
    log(`error expected ${JSON.stringify(text(prefix, next[prefix]))}, got ${JSON.stringify(data)}`);
    return;
  }
  next[prefix]++;
  if (!done && next.s === count && next.c === count) {
    done = true;
    log('done');
  }
});
for (let i = 0; i < count; i++) {
  socket.send(text('c', i));
}
const progress = setInterval(() => log(`progress ${next.s} ${next.c}`), 500);
process.stdin.on('end', () => {
  clearInterval(progress);
  socket.close();
  process.exit(0);
});
process.stdin.resume();
