// Tests of the browser client's session resume (docs/RESUME-PROTOCOL.md), in Node, over real sockets:
// against resume-peer.mjs (a reference peer of the server side, written from the specification), and
// against the plain `ws` echo server of ws-server.mjs, which ignores the resume parameter.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import WebSocket from 'ws';

import { ResilientWebSocket } from '../../main/resources/META-INF/resources/resilient-ws/resilient-ws.js';
import { PING_TEXT, startResumePeer } from './resume-peer.mjs';
import { startPeerServer } from './ws-server.mjs';
import {
  FakeClock, nextEvent, recordEvents, waitFor,
} from './support.mjs';

const NUL = '\u0000';

let peer;
const sockets = [];
const servers = [];

/** A resume client of the peer, with the `ws` constructor and fast real reconnects unless told otherwise. */
function connect(options = {}, url = `ws://127.0.0.1:${peer.port}/`) {
  const socket = new ResilientWebSocket(url, undefined, {
    WebSocket, resume: true, initialDelay: 20, maxDelay: 100, jitter: 0, ...options,
  });
  sockets.push(socket);
  return socket;
}

function timersOf(clock) {
  return { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, now: clock.now };
}

/** A plain `ws` echo server that knows nothing of resume. */
async function plainServer() {
  const server = await startPeerServer();
  servers.push(server);
  return server;
}

/** Deterministic randomness (xorshift32), so that a failing run can be repeated with its seed. */
function randomSource(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/**
 * A random application message: text or binary, often starting with NUL, sometimes looking like a
 * control message ('\0A 1', '\0H'), sometimes empty. Never the heartbeat texts.
 */
function randomPayload(random) {
  const length = Math.floor(random() * 40);
  if (random() < 0.4) {
    const bytes = new Uint8Array(length);
    bytes.forEach((_, i) => { bytes[i] = Math.floor(random() * 256); });
    if (length > 0 && random() < 0.4) {
      bytes[0] = 0;
    }
    return bytes;
  }
  const alphabet = [NUL, NUL, 'A', 'H', 'S', 'R', 'N', ' ', '1', 'x', 'é', '€', '😀'];
  let text = '';
  for (let i = 0; i < length; i++) {
    text += alphabet[Math.floor(random() * alphabet.length)];
  }
  const prefixes = ['', NUL, `${NUL}A 1`, `${NUL}H`, `${NUL}${NUL}`];
  return prefixes[Math.floor(random() * prefixes.length)] + text;
}

/** Text as it is, binary as an array of byte values: comparable whatever buffer type carried it. */
function comparable(data) {
  if (typeof data === 'string') {
    return data;
  }
  return [...new Uint8Array(data.buffer ?? data, data.byteOffset ?? 0, data.byteLength)];
}

/** Lets the event loop run I/O once: the sender's loop does not hog it (not a wait for a condition). */
function yieldToIo() {
  return new Promise((resolve) => setImmediate(resolve));
}

beforeEach(async () => {
  peer = await startResumePeer();
});

afterEach(async () => {
  sockets.splice(0).forEach((socket) => socket.close());
  await peer.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('resume: the session survives cuts', () => {
  test('1,200 random messages each way, the link cut abruptly 5 times: each arrives once, in order', async () => {
    const seed = Number(process.env.RESUME_SEED ?? Date.now() % 1_000_000);
    const random = randomSource(seed);
    const count = 1200;
    const fromClient = Array.from({ length: count }, () => randomPayload(random));
    const fromServer = Array.from({ length: count }, () => randomPayload(random));
    const cutsAt = new Set([150, 400, 650, 800, 1050]);

    // Heartbeats run all along, both ways: their texts must be neither counted nor escaped.
    const socket = connect({ heartbeatInterval: 5, heartbeatTimeout: 50 });
    socket.binaryType = 'arraybuffer';
    const received = [];
    const reconnected = [];
    socket.onmessage = (event) => received.push(event.data);
    socket.addEventListener('reconnected', (event) => reconnected.push(event.detail));
    await nextEvent(socket, 'open');
    const session = peer.session;

    for (let i = 0; i < count; i++) {
      if (cutsAt.has(i)) {
        // Cut only a live transport, so that each cut is a real one, in the middle of both streams.
        await waitFor(() => session.ws !== null && socket.readyState === ResilientWebSocket.OPEN, `open before cut ${i}`);
        peer.cut();
      }
      assert.equal(socket.send(fromClient[i]), true, `send ${i}`);
      session.send(fromServer[i]);
      if (i % 50 === 0) {
        session.ws?.send(PING_TEXT); // the server's own application-level ping, answered by the client
      }
      if (i % 7 === 0) {
        await yieldToIo();
      }
    }
    await waitFor(() => session.received.length >= count && received.length >= count,
      `all messages (server has ${session.received.length}, client ${received.length}; seed ${seed})`, 20_000);

    assert.deepEqual(session.received.map(comparable), fromClient.map(comparable), `client to server, seed ${seed}`);
    assert.deepEqual(received.map(comparable), fromServer.map(comparable), `server to client, seed ${seed}`);
    assert.equal(peer.sessions.length, 1, 'one session all along');
    assert.ok(peer.pongs > 0, 'the client answered the server\'s pings');
    assert.equal(peer.transports.length, 1 + cutsAt.size);
    assert.deepEqual(reconnected.map((detail) => detail.recovered), Array(cutsAt.size).fill(true));
    // Every message gets acknowledged in the end: nothing is held any more.
    await waitFor(() => socket.bufferedAmount === 0, 'the last acknowledgement');
  });

  test('resume presents the token and the count received; the server resends what was lost', async () => {
    const clock = new FakeClock();
    peer.ackDelay = Infinity;
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 0 });
    const events = recordEvents(socket);
    await nextEvent(socket, 'open');
    const session = peer.session;
    session.send('s1');
    await waitFor(() => events.some((event) => event.data === 's1'), 's1');
    socket.send('c1');
    await waitFor(() => session.received.length === 1, 'c1');
    const reconnecting = nextEvent(socket, 'reconnecting');
    peer.cut();
    await reconnecting;
    session.send('s2'); // held by the detached session
    socket.send('c2'); // queued by the client
    const reconnected = nextEvent(socket, 'reconnected');
    clock.advance(20);
    assert.deepEqual((await reconnected).detail, { attempt: 1, recovered: true });
    await waitFor(() => session.received.length === 2 && events.some((event) => event.data === 's2'), 'c2 and s2');
    const [resume] = peer.transports[1].controls;
    assert.match(resume, /^\u0000R [A-Za-z0-9_-]{22} 1$/, 'R with the token and 1 received');
    assert.deepEqual(session.received, ['c1', 'c2']);
    // The token never reaches the page: not in any event.
    const tokenSeen = resume.split(' ')[1];
    assert.ok(!JSON.stringify(events).includes(tokenSeen));
    assert.ok(!JSON.stringify(events).includes(session.token));
  });
});

describe('resume: refused', () => {
  for (const [name, refuse, reason] of [
    ['the token is unknown (the server forgot it)', (p) => p.forgetSessions(), 'unknown'],
    ['the window passed', (p) => { p.window = -1; }, 'expired'],
  ]) {
    test(`${name}: recovered false with '${reason}', old messages fail, numbering starts again`, async () => {
      const clock = new FakeClock();
      peer.ackDelay = Infinity; // the server acknowledges nothing: c1 and c2 stay unacknowledged
      const socket = connect({ ...timersOf(clock), heartbeatInterval: 0 });
      const events = recordEvents(socket);
      await nextEvent(socket, 'open');
      const first = peer.session;
      first.send('s1');
      socket.send('c1');
      socket.send('c2');
      await waitFor(() => first.received.length === 2 && events.some((event) => event.data === 's1'), 'c1, c2 and s1');
      assert.equal(socket.bufferedAmount, 4);

      refuse(peer);
      const reconnecting = nextEvent(socket, 'reconnecting');
      peer.cut();
      await reconnecting;
      socket.send('q1');
      const reconnected = nextEvent(socket, 'reconnected');
      clock.advance(20);
      assert.deepEqual((await reconnected).detail, { attempt: 1, recovered: false, reason });

      assert.deepEqual(events.filter((event) => event.type === 'senderror').map((event) => [event.reason, event.data]),
        [['not-recovered', 'c1'], ['not-recovered', 'c2'], ['not-recovered', 'q1']]);
      // Reported before 'open', so that the page knows what was lost by 'reconnected'.
      const types = events.map((event) => event.type);
      assert.ok(types.lastIndexOf('senderror') < types.lastIndexOf('open'));
      assert.equal(socket.bufferedAmount, 0);
      assert.equal(peer.sessions.length, 2);
      if (reason === 'expired') {
        assert.ok(first.ended, 'the old session ended'); // (an unknown token names no session to end)
      }

      // Fresh numbering both ways: the new session's first message is 1 for each side.
      const second = peer.session;
      socket.send('b1');
      await waitFor(() => second.received.length === 1, 'b1 in the new session');
      assert.deepEqual(second.received, ['b1']);
      second.send('t1');
      await waitFor(() => events.some((event) => event.data === 't1'), 't1');
      clock.advance(100);
      await waitFor(() => peer.transports[1].controls.includes(`${NUL}A 1`), 'A 1 (not A 2)');
      second.sendAck();
      await waitFor(() => socket.bufferedAmount === 0, 'b1 acknowledged as 1');
      assert.equal(socket.readyState, ResilientWebSocket.OPEN);
    });
  }
});

describe('resume: against a server without it', () => {
  test('no message within the hello timeout: a plain WebSocket, opened after resumeHelloTimeout', async () => {
    const clock = new FakeClock();
    const server = await plainServer();
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 0 }, `ws://127.0.0.1:${server.port}/`);
    const events = recordEvents(socket);
    socket.send(`${NUL}early`);
    await waitFor(() => clock.pending().includes(5000), 'the native open and the hello timer');
    clock.advance(4999);
    assert.equal(socket.readyState, ResilientWebSocket.CONNECTING);
    assert.deepEqual(events, []);
    assert.deepEqual(server.received, [], 'the client sends nothing before it knows');
    const opened = nextEvent(socket, 'open');
    clock.advance(1);
    await opened;
    assert.equal(socket.resumable, false);
    await waitFor(() => events.some((event) => event.type === 'message'), 'the echo');
    // Plain: no escaping, no control message, and a NUL message from the server is the application's.
    assert.deepEqual(server.received, [`${NUL}early`]);
    assert.deepEqual(events.map((event) => [event.type, event.data]), [['open', undefined], ['message', `${NUL}early`]]);
    assert.equal(server.urls[0], '/?rws-resume=1');
  });

  test('the server speaks first with something else: plain, and that message comes after open', async () => {
    const clock = new FakeClock();
    const server = await plainServer();
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 0 }, `ws://127.0.0.1:${server.port}/`);
    const events = recordEvents(socket);
    await waitFor(() => server.connections.length === 1, 'the connection');
    server.connections[0].send('welcome');
    await waitFor(() => events.length === 2, 'open and the welcome');
    assert.deepEqual(events, [{ type: 'open' }, { type: 'message', data: 'welcome' }]);
    assert.deepEqual(clock.pending(), [], 'no hello timer left');
    socket.send(`${NUL}A 1`);
    await waitFor(() => events.length === 3, 'the echo');
    assert.deepEqual(events[2], { type: 'message', data: `${NUL}A 1` });
    assert.deepEqual(server.received, [`${NUL}A 1`]);
  });

  test('a session that reconnects to a server without resume: recovered false, \'unsupported\'', async () => {
    const clock = new FakeClock();
    peer.ackDelay = Infinity;
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 0 });
    const events = recordEvents(socket);
    await nextEvent(socket, 'open');
    socket.send('c1');
    await waitFor(() => peer.session.received.length === 1, 'c1');
    // From now on the peer is a plain server that greets each connection.
    peer.onConnection = (ws) => ws.send('plain hello');
    const reconnecting = nextEvent(socket, 'reconnecting');
    peer.cut();
    await reconnecting;
    const reconnected = nextEvent(socket, 'reconnected');
    clock.advance(20);
    assert.deepEqual((await reconnected).detail, { attempt: 1, recovered: false, reason: 'unsupported' });
    assert.deepEqual(events.filter((event) => event.type === 'senderror').map((event) => [event.reason, event.data]),
      [['not-recovered', 'c1']]);
    await waitFor(() => events.at(-1).data === 'plain hello', 'the greeting, as a message');
  });
});

describe('resume: acknowledgements', () => {
  test('the client acknowledges at 64 messages at once, else 100 ms after the first; 64 KiB at once', async () => {
    const clock = new FakeClock();
    peer.ackDelay = Infinity;
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 0 });
    const received = [];
    socket.onmessage = (event) => received.push(event.data);
    await nextEvent(socket, 'open');
    const { session } = peer;
    const controls = peer.transports[0].controls;
    for (let i = 1; i <= 63; i++) {
      session.send(`m${i}`);
    }
    await waitFor(() => received.length === 63, '63 messages');
    assert.deepEqual(controls, [`${NUL}N`], 'no acknowledgement before 64 or 100 ms');
    session.send('m64');
    await waitFor(() => controls.length === 2, 'the acknowledgement at 64');
    assert.deepEqual(controls, [`${NUL}N`, `${NUL}A 64`]);

    session.send('m65');
    await waitFor(() => received.length === 65, 'm65');
    clock.advance(99);
    session.send('m66');
    await waitFor(() => received.length === 66, 'm66');
    assert.equal(controls.length, 2, 'not before 100 ms');
    clock.advance(1);
    await waitFor(() => controls.length === 3, 'the acknowledgement after 100 ms');
    assert.equal(controls[2], `${NUL}A 66`);

    session.send('x'.repeat(64 * 1024));
    await waitFor(() => controls.length === 4, 'the acknowledgement at 64 KiB');
    assert.equal(controls[3], `${NUL}A 67`);
    assert.deepEqual(clock.pending(), [], 'no acknowledgement timer left');
    assert.deepEqual(session.acksReceived, [64, 66, 67]);
  });

  test('the sender keeps what is unacknowledged (bufferedAmount, queue limit) until A', async () => {
    const clock = new FakeClock();
    peer.ackDelay = Infinity;
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 0, queueLimitBytes: 10 });
    const events = recordEvents(socket);
    await nextEvent(socket, 'open');
    const { session } = peer;
    assert.equal(socket.send('abc'), true);
    assert.equal(socket.send(new Uint8Array([0, 1, 2])), true);
    assert.equal(socket.bufferedAmount, 6);
    await waitFor(() => session.received.length === 2, 'two messages');
    assert.equal(socket.bufferedAmount, 6, 'written, not yet acknowledged');
    assert.equal(socket.send('12345'), false, 'open, but 11 bytes would be held');
    assert.deepEqual(events.at(-1), {
      type: 'senderror', reason: 'queue-full', data: '12345', size: 5, queuedBytes: 6, limit: 10,
    });
    session.sendAck();
    await waitFor(() => socket.bufferedAmount === 0, 'the acknowledgement');
    assert.equal(socket.send('12345'), true);
    assert.deepEqual(comparable(session.received[1]), [0, 1, 2], 'the escaped NUL came through unescaped');
  });
});

describe('resume: framing', () => {
  test('control messages never reach message listeners; escaped NUL data does, unescaped', async () => {
    const socket = connect({ heartbeatInterval: 0 });
    socket.binaryType = 'arraybuffer';
    const messages = [];
    socket.onmessage = (event) => messages.push(comparable(event.data));
    socket.addEventListener('message', (event) => messages.push(['listener', comparable(event.data)]));
    await nextEvent(socket, 'open');
    const { session } = peer;
    session.send(`${NUL}A 1`);
    session.send(new Uint8Array([0]));
    session.send('plain');
    await waitFor(() => messages.length === 6, 'three messages');
    session.sendAck(); // nothing pending: sends nothing
    socket.send('c1');
    await waitFor(() => session.received.length === 1, 'c1');
    session.sendAck(); // \0A 1, a control message
    await waitFor(() => socket.bufferedAmount === 0, 'the acknowledgement');
    assert.deepEqual(messages, [
      `${NUL}A 1`, ['listener', `${NUL}A 1`], [0], ['listener', [0]], 'plain', ['listener', 'plain'],
    ]);
  });

  const malformed = [
    ['NUL alone', NUL],
    ['NUL and a digit', `${NUL}1`],
    ['A without a count', `${NUL}A`],
    ['A with a leading zero', `${NUL}A 01`],
    ['A with two spaces', `${NUL}A  1`],
    ['A beyond 2^53 - 1', `${NUL}A 9007199254740992`],
    ['A of more than was sent', `${NUL}A 1`],
    ['an unknown letter', `${NUL}Z`],
    ['H after the handshake', `${NUL}H`],
    ['S after the handshake', `${NUL}S AAAAAAAAAAAAAAAAAAAAAA 0 0`],
    ['binary with one NUL', new Uint8Array([0, 1])],
    ['binary NUL alone', new Uint8Array([0])],
  ];
  for (const [name, message] of malformed) {
    test(`a malformed message (${name}) closes with 1002 and does not reconnect`, async () => {
      const socket = connect({ heartbeatInterval: 0 });
      const events = recordEvents(socket);
      await nextEvent(socket, 'open');
      const closed = nextEvent(socket, 'close');
      peer.transports[0].ws.send(message);
      const close = await closed;
      assert.equal(close.code, 1002);
      assert.equal(close.willReconnect, false);
      assert.match(close.reason, /^resume: /);
      assert.equal(socket.readyState, ResilientWebSocket.CLOSED);
      await waitFor(() => peer.transports[0].closed !== null, 'the server side to close');
      assert.equal(peer.transports[0].closed[0], 1002);
      assert.equal(events.filter((event) => event.type === 'message').length, 0);
      assert.equal(peer.transports.length, 1);
    });
  }

  test('a malformed S in the handshake closes with 1002', async () => {
    peer.onConnection = (ws) => {
      ws.send(`${NUL}H`);
      ws.once('message', () => ws.send(`${NUL}S tooshort 0 0`));
    };
    const socket = connect({ heartbeatInterval: 0 });
    const close = await nextEvent(socket, 'close');
    assert.deepEqual([close.code, close.willReconnect], [1002, false]);
  });
});

describe('resume: sessions end and continue as the close says', () => {
  test('the page\'s close() ends the session: nothing kept, a new client starts a new one', async () => {
    const socket = connect({ heartbeatInterval: 0 });
    await nextEvent(socket, 'open');
    const first = peer.session;
    const closed = nextEvent(socket, 'close');
    socket.close();
    await closed;
    await waitFor(() => first.ended, 'the server to end the session');
    const again = connect({ heartbeatInterval: 0 });
    await nextEvent(again, 'open');
    assert.deepEqual(peer.transports[1].controls, [`${NUL}N`]);
  });

  test('a close that reconnects but is intentional (4001) starts a new session: recovered false', async () => {
    const clock = new FakeClock();
    peer.ackDelay = Infinity;
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 0, reconnectOnCodes: [4001] });
    const events = recordEvents(socket);
    await nextEvent(socket, 'open');
    socket.send('c1');
    await waitFor(() => peer.session.received.length === 1, 'c1');
    const reconnecting = nextEvent(socket, 'reconnecting');
    peer.session.ws.close(4001, 'moved');
    await reconnecting;
    const reconnected = nextEvent(socket, 'reconnected');
    clock.advance(20);
    assert.deepEqual((await reconnected).detail, { attempt: 1, recovered: false, reason: 'new-session' });
    assert.deepEqual(peer.transports[1].controls, [`${NUL}N`]);
    assert.deepEqual(events.filter((event) => event.type === 'senderror').map((event) => event.data), ['c1']);
  });

  test('1001 and a heartbeat death keep the session: the next connection resumes', async () => {
    const clock = new FakeClock();
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 20_000, heartbeatTimeout: 10_000 });
    await nextEvent(socket, 'open');
    let reconnected = nextEvent(socket, 'reconnected');
    peer.session.ws.close(1001, 'going away');
    await nextEvent(socket, 'reconnecting');
    clock.advance(20);
    assert.equal((await reconnected).detail.recovered, true);

    // The peer stops answering pings on this transport: it is declared dead (1006) and resumed.
    peer.transports[1].ws.removeAllListeners('message');
    clock.advance(20_000);
    const closed = nextEvent(socket, 'close');
    clock.advance(10_000);
    assert.match((await closed).reason, /^heartbeat/);
    reconnected = nextEvent(socket, 'reconnected');
    clock.advance(40);
    assert.equal((await reconnected).detail.recovered, true);
    assert.equal(peer.sessions.length, 1);
    assert.match(peer.transports[2].controls[0], /^\u0000R /);
  });

  test('an unclean close for good reports what was not acknowledged', async () => {
    const clock = new FakeClock();
    peer.ackDelay = Infinity;
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 0, maxAttempts: 0 });
    const events = recordEvents(socket);
    await nextEvent(socket, 'open');
    socket.send('c1');
    await waitFor(() => peer.session.received.length === 1, 'c1');
    const closed = nextEvent(socket, 'close');
    peer.cut();
    assert.equal((await closed).willReconnect, false);
    assert.deepEqual(events.filter((event) => event.type === 'senderror').map((event) => [event.reason, event.data]),
      [['closed', 'c1']]);
  });
});

describe('resume off', () => {
  test('no parameter, no hello wait, no envelope: NUL messages pass as they are', async () => {
    const clock = new FakeClock();
    const server = await plainServer();
    const url = `ws://127.0.0.1:${server.port}/chat?room=1`;
    const socket = new ResilientWebSocket(url, undefined, { WebSocket, ...timersOf(clock), heartbeatInterval: 0 });
    sockets.push(socket);
    const events = recordEvents(socket);
    await nextEvent(socket, 'open');
    assert.deepEqual(clock.pending(), [], 'no hello timer');
    assert.equal(server.urls[0], '/chat?room=1');
    assert.equal(socket.resumable, false);
    socket.send(`${NUL}x`);
    server.connections[0].send(`${NUL}A 1`);
    await waitFor(() => events.filter((event) => event.type === 'message').length === 2, 'two messages');
    assert.deepEqual(server.received, [`${NUL}x`]);
    assert.deepEqual(events.filter((event) => event.type === 'message').map((event) => event.data).sort(),
      [`${NUL}A 1`, `${NUL}x`]);
  });

  test('with resume, the parameter joins an existing query and url reads as given', async () => {
    const socket = connect({ heartbeatInterval: 0 }, `ws://127.0.0.1:${peer.port}/chat?room=1`);
    await nextEvent(socket, 'open');
    assert.equal(peer.transports[0].url, '/chat?room=1&rws-resume=1');
    assert.equal(socket.url, `ws://127.0.0.1:${peer.port}/chat?room=1`);
    assert.equal(socket.resumable, true);
  });
});

describe('resume: details', () => {
  test('binary messages follow binaryType (native default, blob, arraybuffer); a Blob send throws', async () => {
    const socket = connect({ heartbeatInterval: 0 });
    const received = [];
    socket.onmessage = (event) => received.push(event.data);
    await nextEvent(socket, 'open');
    assert.equal(socket.binaryType, 'nodebuffer', 'the native socket\'s own default (ws in Node)');
    peer.session.send(new Uint8Array([0, 7]));
    await waitFor(() => received.length === 1, 'the first message');
    assert.ok(Buffer.isBuffer(received[0]));
    assert.deepEqual([...received[0]], [0, 7]);
    socket.binaryType = 'blob';
    peer.session.send(new Uint8Array([0, 8]));
    await waitFor(() => received.length === 2, 'the second message');
    assert.ok(received[1] instanceof Blob);
    assert.deepEqual([...new Uint8Array(await received[1].arrayBuffer())], [0, 8]);
    socket.binaryType = 'arraybuffer';
    peer.session.send(new Uint8Array([9]));
    await waitFor(() => received.length === 3, 'the third message');
    assert.ok(received[2] instanceof ArrayBuffer);
    assert.throws(() => socket.send(new Blob(['x'])), TypeError);
  });

  test('H but no S within resumeHelloTimeout: a loss (1006) that reconnects', async () => {
    const clock = new FakeClock();
    peer.onConnection = (ws, transport) => {
      ws.send(`${NUL}H`);
      ws.on('message', (data) => transport.controls.push(String(data)));
    };
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 0 });
    await waitFor(() => peer.transports[0]?.controls.length === 1, 'N');
    assert.deepEqual(peer.transports[0].controls, [`${NUL}N`]);
    assert.equal(socket.readyState, ResilientWebSocket.CONNECTING);
    const closed = nextEvent(socket, 'close');
    clock.advance(5000);
    const close = await closed;
    assert.deepEqual([close.code, close.willReconnect], [1006, true]);
    assert.match(close.reason, /^resume: no session message within 5000 ms/);
  });

  test('close() during the handshake closes for good and ends the session on the server', async () => {
    peer.onConnection = (ws, transport) => {
      ws.send(`${NUL}H`);
      ws.on('message', (data) => transport.controls.push(String(data)));
      ws.on('close', (code) => { transport.closed = [code]; });
    };
    const socket = connect({ heartbeatInterval: 0 });
    await waitFor(() => peer.transports[0]?.controls.length === 1, 'N');
    const closed = nextEvent(socket, 'close');
    socket.close(4000, 'bye');
    assert.equal(socket.readyState, ResilientWebSocket.CLOSING);
    const close = await closed;
    assert.deepEqual([close.code, close.willReconnect], [4000, false]);
    await waitFor(() => peer.transports[0].closed !== null, 'the server to see the close');
    assert.deepEqual(peer.transports[0].closed, [4000]);
  });
});
