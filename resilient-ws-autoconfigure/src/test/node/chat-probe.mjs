// The probe of issue 10: two Node `ws` clients (permessage-deflate off) on a chat endpoint that
// broadcasts every text it receives. Client A sends <count> texts of 1 KiB random base64, keeping at
// most <window> in flight to client B (A's own copies are not windowed, as in a real chat).
//
// A client's 'open' comes with the server's 101, before the server has registered its session, and a
// message broadcast in between never reaches it: so A first sends "sync" texts until B has one, and
// only then starts counting (without that, a run now and then stopped a message or two short).
//
// Started by the Java tests: `node chat-probe.mjs <url> <count> <window>`. Prints `open`, then
// `close <A|B> <code> <reason>` for a close, `progress <delivered to B>` every 500 ms and
// `done <count> <millis>` once B has them all; exits when its standard input closes.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

const [url, countArg, windowArg] = process.argv.slice(2);
const count = Number(countArg);
const window = Number(windowArg);
const log = (line) => process.stdout.write(`${line}\n`);
const options = { perMessageDeflate: false };
const a = new WebSocket(url, options);
const b = new WebSocket(url, options);
let open = 0;
let sent = 0;
let delivered = 0;
let start = 0;

const pump = () => {
  while (sent < count && sent - delivered < window && a.readyState === WebSocket.OPEN) {
    a.send(randomBytes(768).toString('base64'));
    sent++;
  }
};
let synced = false;
const SYNC = 'sync';
b.on('message', (data) => {
  if (data.toString().startsWith(SYNC)) {
    synced = true;
    return;
  }
  delivered++;
  if (delivered === count) {
    log(`done ${count} ${Date.now() - start}`);
  }
  pump();
});
a.on('message', () => {});
const sync = () => {
  if (synced) {
    log('open');
    start = Date.now();
    setInterval(() => log(`progress ${delivered}`), 500);
    pump();
    return;
  }
  if (a.readyState === WebSocket.OPEN) a.send(SYNC);
  setTimeout(sync, 20);
};
for (const [name, ws] of [['A', a], ['B', b]]) {
  ws.on('open', () => {
    if (++open === 2) {
      sync();
    }
  });
  ws.on('close', (code, reason) => log(`close ${name} ${code} ${reason.toString()}`));
  ws.on('error', (error) => log(`error ${name} ${error.message}`));
}

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
