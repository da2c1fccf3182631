// The Node `ws` reference server: the same work as the Spring bench app (echo at /ws, paced broadcasts
// to every client, control endpoints for the driver, and the /chat endpoint of the chat scenario), so
// the scenarios have a peer reference in the same run. A client whose bufferedAmount passes 512 KiB is terminated, as the starter's default
// TERMINATE policy does with its 512 KiB send buffer.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const port = Number(args.port || 8090);
const BUFFER_LIMIT = 512 * 1024;

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const reply = (body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/control/stats') {
    if (url.searchParams.get('gc') === 'true' && global.gc) {
      global.gc();
      global.gc();
    }
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    reply({
      mode: 'node',
      heapUsed: mem.heapUsed + mem.external,
      rss: mem.rss,
      cpuNanos: (cpu.user + cpu.system) * 1000,
      sessions: wss.clients.size,
      nanoTime: process.hrtime.bigint().toString(),
    });
  } else if (url.pathname === '/control/closes') {
    reply([]);
  } else if (url.pathname === '/control/broadcast' && req.method === 'POST') {
    broadcast(Number(url.searchParams.get('count')), Number(url.searchParams.get('rate')),
      Number(url.searchParams.get('size')), reply);
  } else {
    res.writeHead(404);
    res.end();
  }
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});

// The chat scenario's endpoint: every text one participant sends goes to every participant; a
// participant whose bufferedAmount passes --chat-buffer-limit is terminated (the TERMINATE policy).
// permessage-deflate is accepted when the client offers it, as Tomcat does.
const CHAT_BUFFER_LIMIT = Number(args['chat-buffer-limit'] || BUFFER_LIMIT);
const chat = new WebSocketServer({ noServer: true, perMessageDeflate: true });
chat.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const client of chat.clients) {
      if (client.readyState !== 1) continue;
      if (client.bufferedAmount > CHAT_BUFFER_LIMIT) {
        client.terminate();
      } else {
        client.send(data, { binary: isBinary });
      }
    }
  });
  ws.on('error', () => {});
});

server.on('upgrade', (req, socket, head) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  const target = (path === '/ws') ? wss : (path === '/chat') ? chat : null;
  if (target === null) {
    socket.destroy();
    return;
  }
  target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
});

function broadcast(count, rate, size, reply) {
  const interval = BigInt(Math.round(1e9 / rate));
  const start = process.hrtime.bigint() + 1000000n;
  let i = 0;
  let accepted = 0;
  let rejected = 0;
  let maxLag = 0n;
  const pad = 'x'.repeat(size);
  const loop = () => {
    let now = process.hrtime.bigint();
    while (i < count && start + BigInt(i) * interval <= now) {
      const due = start + BigInt(i) * interval;
      if (now - due > maxLag) maxLag = now - due;
      const prefix = due.toString() + '|';
      const text = prefix + pad.substring(Math.min(pad.length, prefix.length));
      for (const client of wss.clients) {
        if (client.readyState !== 1) continue;
        if (client.bufferedAmount > BUFFER_LIMIT) {
          client.terminate();
          rejected++;
        } else {
          client.send(text);
          accepted++;
        }
      }
      i++;
      now = process.hrtime.bigint();
    }
    if (i >= count) {
      reply({ accepted, rejected, maxLagMillis: Number(maxLag / 1000000n),
        durationMillis: Number((process.hrtime.bigint() - start) / 1000000n) });
      return;
    }
    const wait = Number((start + BigInt(i) * interval - now) / 1000000n);
    setTimeout(loop, Math.max(0, wait));
  };
  setTimeout(loop, 1);
}

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
