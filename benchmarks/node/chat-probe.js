// The chat probe of issue 10, for the chat scenario: one sender and <receivers> receivers, Node `ws`
// clients, on a /chat endpoint that broadcasts every text it receives to every participant. The
// sender sends <count> texts of 1 KiB random base64, keeping at most <window> in flight to the
// slowest receiver (its own copies are not windowed, as in a real chat). Stops when every receiver
// has every message, when a client is closed (nothing more would be sent), or after <bound> ms.
//
// A client's 'open' comes with the server's 101, before the server has registered its session (Tomcat
// writes the 101, then calls the endpoint's onOpen on a thread of its own): a message broadcast in
// between never reaches that receiver, on any server, and a run that counted from 'open' stopped a
// few messages short (BENCHMARKS §18). So the sender first sends "sync" texts until every receiver
// has one, and only then starts the counted messages. Each counted text starts with its number, so
// a run that stops short says which messages are missing.
//
//   node chat-probe.js --url=ws://127.0.0.1:8090/chat --count=20000 --window=200 --receivers=1
//        --deflate=false --bound=20000
//
// Prints one JSON line: delivered (to the slowest receiver), millis (until done, or until the stop),
// complete, duplicates (messages a receiver got twice), and closes [{client, code, reason, atMillis}].
'use strict';
const { randomBytes } = require('crypto');
const WebSocket = require('ws');

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const url = args.url;
const count = Number(args.count || 20000);
const window = Number(args.window || 200);
const receiverCount = Number(args.receivers || 1);
const deflate = args.deflate === 'true';
const bound = Number(args.bound || 20000);

const options = { perMessageDeflate: deflate };
const sender = new WebSocket(url, options);
const receivers = Array.from({ length: receiverCount }, () => new WebSocket(url, options));
const delivered = new Array(receiverCount).fill(0);
const closes = [];
let open = 0;
let sent = 0;
let start = 0;
let finished = false;
let duplicates = 0;

const received = Array.from({ length: receiverCount }, () => new Uint8Array(count));
const synced = new Array(receiverCount).fill(false);
const SYNC = 'sync';
const NUMBER_DIGITS = 6;

const slowest = () => Math.min(...delivered);
const pump = () => {
  while (sent < count && sent - slowest() < window && sender.readyState === WebSocket.OPEN) {
    // 1,024 characters, the first six the message's number.
    sender.send(String(sent).padStart(NUMBER_DIGITS, '0') + randomBytes(768).toString('base64').slice(NUMBER_DIGITS));
    sent++;
  }
};
const missing = (i) => {
  const numbers = [];
  for (let n = 0; n < sent && numbers.length < 20; n++) {
    if (!received[i][n]) numbers.push(n);
  }
  return numbers;
};
const finish = () => {
  if (finished) return;
  finished = true;
  const done = slowest();
  const report = () => {
    process.stdout.write(`${JSON.stringify({ delivered: done, sent, millis: Date.now() - start,
    complete: done === count, duplicates, closes })}\n`);
    process.exit(0);
  };
  if (done === count || !process.env.CHAT_PROBE_STALLS) {
    report();
    return;
  }
  // A stalled run: what the sender got back, and (starter only) what the server still buffers.
  const stats = url.replace(/^ws/, 'http').replace(/\/chat$/, '/control/chat-buffers');
  const record = (buffers) => {
    require('fs').appendFileSync(process.env.CHAT_PROBE_STALLS, `${JSON.stringify({ sent, delivered, echoes,
      millis: Date.now() - start, buffers, missing: receivers.map((r, i) => missing(i)) })}\n`);
    report();
  };
  fetch(stats).then((r) => r.json()).then(record, (e) => record(String(e)));
};

receivers.forEach((ws, i) => ws.on('message', (data) => {
  const text = data.toString();
  if (text.startsWith(SYNC)) {
    synced[i] = true;
    return;
  }
  const number = Number(text.slice(0, NUMBER_DIGITS));
  if (received[i][number]) {
    duplicates++;
  } else {
    received[i][number] = 1;
    delivered[i]++;
  }
  if (slowest() === count) {
    finish();
  }
  pump();
}));
let echoes = 0;
sender.on('message', (data) => {
  if (!data.toString().startsWith(SYNC)) echoes++;
});
// Until every receiver has had a sync text: the server has registered every session.
const sync = () => {
  if (synced.every(Boolean)) {
    start = Date.now();
    setTimeout(finish, bound);
    pump();
    return;
  }
  if (sender.readyState === WebSocket.OPEN) sender.send(SYNC);
  setTimeout(sync, 20);
};
[sender, ...receivers].forEach((ws, i) => {
  const name = (i === 0) ? 'sender' : `receiver${i}`;
  ws.on('open', () => {
    if (++open === receiverCount + 1) {
      sync();
    }
  });
  ws.on('close', (code, reason) => {
    closes.push({ client: name, code, reason: reason.toString(), atMillis: start ? Date.now() - start : -1 });
    // Give the other clients a moment to read what is already on its way, then stop.
    if (!finished) setTimeout(finish, 500);
  });
  ws.on('error', () => {});
});
setTimeout(finish, bound + 10000);
