// The cluster scenario's baseline: Socket.IO 4 with @socket.io/redis-adapter (node-redis clients), one
// process per instance, all on the same redis-server. The same control endpoints as the other bench
// servers: /control/stats (sessions = this process's connected sockets, nodes = the adapter's
// serverCount) and /control/broadcast, a paced io.emit('m', text) whose text carries the time it was
// due (process.hrtime, CLOCK_MONOTONIC like the driver's System.nanoTime).
// Transport websocket only, permessage-deflate off (Socket.IO's default), as the JDK clients speak it.
'use strict';
const http = require('http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const port = Number(args.port || 8090);
const redisPort = Number(args['redis-port'] || 6379);

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const reply = (body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/control/stats') {
    if (url.searchParams.get('gc') === 'true' && global.gc) {
      global.gc();
    }
    io.of('/').adapter.serverCount().then((nodes) => {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      reply({
        mode: 'socket.io',
        heapUsed: mem.heapUsed + mem.external,
        cpuNanos: (cpu.user + cpu.system) * 1000,
        sessions: io.of('/').sockets.size,
        nodes,
        nanoTime: process.hrtime.bigint().toString(),
      });
    }, (error) => {
      res.writeHead(503);
      res.end(String(error));
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

const io = new Server(server, { transports: ['websocket'], perMessageDeflate: false });

// Paced like the Java bench app's broadcast: every message that is due is emitted, stamped with the
// time it was due, so a loop that falls behind shows as latency.
function broadcast(count, rate, size, reply) {
  const interval = BigInt(Math.round(1e9 / rate));
  const start = process.hrtime.bigint() + 1000000n;
  let i = 0;
  let maxLag = 0n;
  const pad = 'x'.repeat(size);
  const loop = () => {
    let now = process.hrtime.bigint();
    while (i < count && start + BigInt(i) * interval <= now) {
      const due = start + BigInt(i) * interval;
      if (now - due > maxLag) maxLag = now - due;
      const prefix = due.toString() + '|';
      io.emit('m', prefix + pad.substring(Math.min(pad.length, prefix.length)));
      i++;
      now = process.hrtime.bigint();
    }
    if (i >= count) {
      reply({ sent: count, maxLagMillis: Number(maxLag / 1000000n),
        durationMillis: Number((process.hrtime.bigint() - start) / 1000000n) });
      return;
    }
    const wait = Number((start + BigInt(i) * interval - now) / 1000000n);
    setTimeout(loop, Math.max(0, wait));
  };
  setTimeout(loop, 1);
}

async function main() {
  const pub = createClient({ url: `redis://127.0.0.1:${redisPort}` });
  const sub = pub.duplicate();
  pub.on('error', (error) => console.error('redis pub', error.message));
  sub.on('error', (error) => console.error('redis sub', error.message));
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
  server.listen(port, '127.0.0.1');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
