// Tests of the browser client resilient-ws.js, in Node, against a real `ws` server on a random port.
// The `ws` package's client class stands in for the browser's WebSocket. Timing (backoff, heartbeat)
// is asserted on an injected FakeClock where the test is about time; the network is always real.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import WebSocket from 'ws';

import {
  DEFAULT_RECONNECT_CODES, PING_TEXT, PONG_TEXT, ResilientWebSocket,
} from '../../main/resources/META-INF/resources/resilient-ws/resilient-ws.js';
import { startPeerServer } from './ws-server.mjs';
import {
  FakeClock, closedPort, nextEvent, recordEvents, waitFor,
} from './support.mjs';

let server;
const sockets = [];

/** A client with the `ws` constructor and fast real timers unless the test says otherwise. */
function connect(options = {}, url = `ws://127.0.0.1:${server.port}/`, protocols = undefined) {
  const socket = new ResilientWebSocket(url, protocols, {
    WebSocket, initialDelay: 20, maxDelay: 100, jitter: 0, ...options,
  });
  sockets.push(socket);
  return socket;
}

/** Timer options of a FakeClock. */
function timersOf(clock) {
  return { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, now: clock.now };
}

beforeEach(async () => {
  server = await startPeerServer({ protocols: ['v2.chat', 'v1.chat'] });
});

afterEach(async () => {
  // Every test leaves no timer or socket behind, or this process would not end.
  sockets.splice(0).forEach((socket) => socket.close());
  await server.close();
});

describe('as a WebSocket', () => {
  test('opens, negotiates a subprotocol, sends and receives the echo', async () => {
    const socket = connect({}, undefined, ['v1.chat', 'v9']);
    assert.equal(socket.readyState, ResilientWebSocket.CONNECTING);
    await nextEvent(socket, 'open');
    assert.equal(socket.readyState, ResilientWebSocket.OPEN);
    assert.equal(socket.protocol, 'v1.chat');
    assert.equal(socket.url, `ws://127.0.0.1:${server.port}/`);
    const echoed = nextEvent(socket, 'message');
    assert.equal(socket.send('hello ✓'), true);
    assert.equal((await echoed).data, 'hello ✓');
    socket.binaryType = 'arraybuffer';
    const binary = nextEvent(socket, 'message');
    socket.send(new Uint8Array([1, 2, 3]));
    assert.deepEqual([...new Uint8Array((await binary).data)], [1, 2, 3]);
    assert.deepEqual(server.received.map(String), ['hello ✓', '\u0001\u0002\u0003']);
  });

  test('onopen, onmessage and onclose handler properties are called, before added listeners', async () => {
    const socket = connect();
    const calls = [];
    socket.onopen = () => calls.push('onopen');
    socket.addEventListener('open', () => calls.push('listener'));
    socket.onmessage = (event) => calls.push(`onmessage ${event.data}`);
    await nextEvent(socket, 'open');
    socket.send('x');
    await nextEvent(socket, 'message');
    assert.deepEqual(calls, ['onopen', 'listener', 'onmessage x']);
  });

  test('close() rejects the codes and reasons the browser rejects', async () => {
    const socket = connect();
    await nextEvent(socket, 'open');
    assert.throws(() => socket.close(1001), { name: 'InvalidAccessError' });
    assert.throws(() => socket.close(1000, 'x'.repeat(124)), { name: 'SyntaxError' });
    assert.equal(socket.readyState, ResilientWebSocket.OPEN);
  });
});

describe('reconnect', () => {
  test('an abnormal drop reconnects, and messages sent meanwhile arrive once each, in order', async () => {
    const socket = connect({ initialDelay: 200, maxDelay: 200 });
    const events = recordEvents(socket);
    await nextEvent(socket, 'open');
    socket.send('before');
    await waitFor(() => server.received.length === 1, 'the first message');

    const reconnecting = nextEvent(socket, 'reconnecting');
    server.terminateAll();
    const { detail } = await reconnecting;
    assert.deepEqual(detail, { attempt: 1, delay: 200, code: 1006, reason: '' });
    assert.equal(socket.readyState, ResilientWebSocket.CONNECTING);
    for (const text of ['q1', 'q2', 'q3']) {
      assert.equal(socket.send(text), true);
    }
    assert.equal(socket.bufferedAmount, 6);

    const reconnected = await nextEvent(socket, 'reconnected');
    assert.deepEqual(reconnected.detail, { attempt: 1 });
    await waitFor(() => server.received.length === 4, 'the queued messages');
    assert.deepEqual(server.received, ['before', 'q1', 'q2', 'q3']);
    assert.equal(server.connections.length, 2);
    assert.equal(socket.bufferedAmount, 0);
    assert.deepEqual(events.filter((event) => event.type !== 'message').map((event) => event.type),
      ['open', 'close', 'reconnecting', 'open', 'reconnected']);
    assert.deepEqual(events.find((event) => event.type === 'close'),
      { type: 'close', code: 1006, reason: '', wasClean: false, willReconnect: true });
  });

  test('a server close with 1000 does not reconnect', async () => {
    const clock = new FakeClock();
    const socket = connect(timersOf(clock));
    await nextEvent(socket, 'open');
    const closed = nextEvent(socket, 'close');
    socket.send('close:1000:bye');
    const close = await closed;
    assert.deepEqual([close.code, close.reason, close.wasClean, close.willReconnect], [1000, 'bye', true, false]);
    assert.equal(socket.readyState, ResilientWebSocket.CLOSED);
    assert.deepEqual(clock.pending(), [], 'no reconnect timer');
    clock.advance(60_000);
    assert.equal(server.connections.length, 1);
  });

  test('the page\'s own close() does not reconnect, and later sends are refused', async () => {
    const clock = new FakeClock();
    const socket = connect(timersOf(clock));
    const events = recordEvents(socket);
    await nextEvent(socket, 'open');
    const serverSide = server.connections[0];
    const serverClosed = new Promise((resolve) => serverSide.once('close', (code, reason) => resolve([code, String(reason)])));
    const closed = nextEvent(socket, 'close');
    socket.close(4000, 'done here');
    assert.equal(socket.readyState, ResilientWebSocket.CLOSING);
    const close = await closed;
    assert.deepEqual([close.code, close.reason, close.wasClean, close.willReconnect], [4000, 'done here', true, false]);
    assert.deepEqual(await serverClosed, [4000, 'done here']);
    assert.equal(socket.readyState, ResilientWebSocket.CLOSED);
    assert.deepEqual(clock.pending(), []);
    assert.equal(socket.send('late'), false);
    assert.deepEqual(events.at(-1), {
      type: 'senderror', reason: 'closed', data: 'late', size: 4, queuedBytes: 0, limit: 1024 * 1024,
    });
  });

  test('close() while waiting to reconnect stops for good', async () => {
    const clock = new FakeClock();
    const socket = connect(timersOf(clock));
    await nextEvent(socket, 'open');
    const reconnecting = nextEvent(socket, 'reconnecting');
    server.terminateAll();
    await reconnecting;
    const closed = nextEvent(socket, 'close');
    socket.close();
    const close = await closed;
    assert.equal(close.willReconnect, false);
    assert.equal(socket.readyState, ResilientWebSocket.CLOSED);
    assert.deepEqual(clock.pending(), []);
  });

  // The same table as the Java client's ReconnectPolicy defaults (README, "Which closes reconnect").
  const table = [
    [1000, false], [1001, true], [1002, false], [1003, false], [1007, false], [1008, false], [1009, false],
    [1010, false], [1011, true], [1012, true], [1013, true], [1014, true], [4000, false],
  ];
  for (const [code, reconnects] of table) {
    test(`a server close with ${code} ${reconnects ? 'reconnects' : 'does not reconnect'}`, async () => {
      const clock = new FakeClock();
      const socket = connect(timersOf(clock));
      await nextEvent(socket, 'open');
      const closed = nextEvent(socket, 'close');
      socket.send(`close:${code}`);
      const close = await closed;
      assert.equal(close.code, code);
      assert.equal(close.willReconnect, reconnects);
      assert.equal(socket.readyState, reconnects ? ResilientWebSocket.CONNECTING : ResilientWebSocket.CLOSED);
      assert.equal(clock.pending().length, reconnects ? 1 : 0);
    });
  }

  test('the default reconnect codes are the documented ones', () => {
    assert.deepEqual([...DEFAULT_RECONNECT_CODES], [1001, 1006, 1011, 1012, 1013, 1014]);
  });

  test('reconnectOnCodes adds codes and neverReconnectOnCodes wins', async () => {
    const clock = new FakeClock();
    const socket = connect({ ...timersOf(clock), reconnectOnCodes: [4001], neverReconnectOnCodes: [1012] });
    await nextEvent(socket, 'open');
    let closed = nextEvent(socket, 'close');
    socket.send('close:4001');
    assert.equal((await closed).willReconnect, true);
    const opened = nextEvent(socket, 'open');
    clock.advance(20);
    await opened;
    closed = nextEvent(socket, 'close');
    socket.send('close:1012');
    assert.equal((await closed).willReconnect, false);
    assert.equal(socket.readyState, ResilientWebSocket.CLOSED);
  });

  test('1013 waits at least tryAgainLaterDelay', async () => {
    const clock = new FakeClock();
    const socket = connect({ ...timersOf(clock), initialDelay: 1000, maxDelay: 30_000 });
    await nextEvent(socket, 'open');
    const reconnecting = nextEvent(socket, 'reconnecting');
    socket.send('close:1013');
    assert.equal((await reconnecting).detail.delay, 10_000);
    clock.advance(9_999);
    assert.equal(server.connections.length, 1);
    const reconnected = nextEvent(socket, 'reconnected');
    clock.advance(1);
    await reconnected;
    assert.equal(server.connections.length, 2);
  });

  test('delays grow exponentially up to maxDelay, then maxAttempts ends it', async () => {
    const clock = new FakeClock();
    const socket = connect({
      ...timersOf(clock), initialDelay: 1000, maxDelay: 5000, multiplier: 2, maxAttempts: 5,
    }, `ws://127.0.0.1:${await closedPort()}/`);
    const delays = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const { detail } = await nextEvent(socket, 'reconnecting');
      assert.equal(detail.attempt, attempt);
      delays.push(detail.delay);
      assert.deepEqual(clock.pending(), [detail.delay]);
      clock.advance(detail.delay);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 5000, 5000]);
    const close = await nextEvent(socket, 'close');
    assert.deepEqual([close.code, close.willReconnect], [1006, false]);
    assert.equal(socket.readyState, ResilientWebSocket.CLOSED);
    assert.deepEqual(clock.pending(), []);
  });

  test('jitter spreads each delay by up to the given fraction, within initialDelay and maxDelay', async () => {
    const port = await closedPort();
    const delaysWith = async (random) => {
      const clock = new FakeClock();
      const socket = connect({
        ...timersOf(clock), initialDelay: 1000, maxDelay: 6000, jitter: 0.5, random, maxAttempts: 4,
      }, `ws://127.0.0.1:${port}/`);
      const delays = [];
      for (let attempt = 1; attempt <= 4; attempt++) {
        const { detail } = await nextEvent(socket, 'reconnecting');
        delays.push(detail.delay);
        clock.advance(detail.delay);
      }
      await nextEvent(socket, 'close');
      return delays;
    };
    // Bases 1000, 2000, 4000, 6000 (capped), spread by ±50% but never below 1000 nor above 6000.
    assert.deepEqual(await delaysWith(() => 0), [1000, 1000, 2000, 3000]);
    assert.deepEqual(await delaysWith(() => 0.999999), [1500, 3000, 6000, 6000]);
  });

  test('a connection that was stable starts delays and attempts afresh', async () => {
    const clock = new FakeClock();
    // No heartbeat: its pong would have to cross the real network in the middle of clock.advance().
    const socket = connect({
      ...timersOf(clock), initialDelay: 1000, maxDelay: 30_000, stableAfter: 30_000, heartbeatInterval: 0,
    });
    await nextEvent(socket, 'open');
    let reconnecting = nextEvent(socket, 'reconnecting');
    server.terminateAll();
    assert.deepEqual((await reconnecting).detail, { attempt: 1, delay: 1000, code: 1006, reason: '' });
    let opened = nextEvent(socket, 'open');
    clock.advance(1000);
    await opened;
    reconnecting = nextEvent(socket, 'reconnecting');
    server.terminateAll();
    assert.equal((await reconnecting).detail.attempt, 2, 'lost again soon: the series goes on');
    assert.equal(clock.pending()[0], 2000);
    opened = nextEvent(socket, 'open');
    clock.advance(2000);
    await opened;
    clock.advance(30_000);
    reconnecting = nextEvent(socket, 'reconnecting');
    server.terminateAll();
    assert.deepEqual((await reconnecting).detail, { attempt: 1, delay: 1000, code: 1006, reason: '' });
  });
});

describe('heartbeat', () => {
  test('a server that stops answering pings is declared dead after interval + timeout, and the client reconnects', async () => {
    const clock = new FakeClock();
    server.answerPings = false;
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 20_000, heartbeatTimeout: 10_000 });
    await nextEvent(socket, 'open');
    clock.advance(20_000);
    await waitFor(() => server.textPings === 1, 'the first ping');
    assert.equal(socket.readyState, ResilientWebSocket.OPEN);
    const closed = nextEvent(socket, 'close');
    clock.advance(9_999);
    assert.equal(socket.readyState, ResilientWebSocket.OPEN, 'not dead before the timeout');
    clock.advance(1);
    const close = await closed;
    assert.equal(close.code, 1006);
    assert.equal(close.wasClean, false);
    assert.equal(close.willReconnect, true);
    assert.match(close.reason, /^heartbeat: no __rws_pong__ within 10000 ms/);
    server.answerPings = true;
    const reconnected = nextEvent(socket, 'reconnected');
    clock.advance(20);
    await reconnected;
    await waitFor(() => server.connections[0].readyState === WebSocket.CLOSED, 'the dead socket to be dropped');
  });

  test('a server that answers keeps the connection open, and pongs never reach onmessage', async () => {
    // The next ping goes out after the check of the last one, so one cycle takes the timeout here.
    const socket = connect({ heartbeatInterval: 10, heartbeatTimeout: 250 });
    const messages = [];
    socket.onmessage = (event) => messages.push(event.data);
    socket.addEventListener('message', (event) => messages.push(`listener ${event.data}`));
    await nextEvent(socket, 'open');
    await waitFor(() => server.textPings >= 2, 'two answered pings');
    // The echo comes after every pong the server sent before it: TCP keeps the order.
    const echoed = nextEvent(socket, 'message');
    socket.send('hello');
    await echoed;
    assert.deepEqual(messages, ['hello', 'listener hello']);
    assert.equal(socket.readyState, ResilientWebSocket.OPEN);
  });

  test('any inbound message proves life', async () => {
    const clock = new FakeClock();
    server.answerPings = false;
    const socket = connect({ ...timersOf(clock), heartbeatInterval: 20_000, heartbeatTimeout: 10_000 });
    await nextEvent(socket, 'open');
    clock.advance(20_000);
    await waitFor(() => server.textPings === 1, 'the ping');
    const echoed = nextEvent(socket, 'message');
    socket.send('still here');
    await echoed;
    clock.advance(10_000);
    assert.equal(socket.readyState, ResilientWebSocket.OPEN);
    assert.deepEqual(clock.pending(), [10_000], 'the next ping, one interval after the last');
  });

  test('a ping text from the peer is answered with the pong text and not given to onmessage', async () => {
    const socket = connect();
    const messages = [];
    socket.onmessage = (event) => messages.push(event.data);
    await nextEvent(socket, 'open');
    server.connections[0].send(PING_TEXT);
    await waitFor(() => server.received.includes(PONG_TEXT), 'the pong');
    const echoed = nextEvent(socket, 'message');
    socket.send('after');
    await echoed;
    // The echo server sent our pong back too: swallowed like any pong.
    assert.deepEqual(messages, ['after']);
  });
});

describe('sending while disconnected', () => {
  test('messages beyond queueLimitBytes are refused with a senderror event', async () => {
    const clock = new FakeClock();
    const socket = connect({ ...timersOf(clock), queueLimitBytes: 10 }, `ws://127.0.0.1:${await closedPort()}/`);
    const events = recordEvents(socket);
    assert.equal(socket.send('12345'), true);
    assert.equal(socket.send('€€'), false, '6 bytes of UTF-8 do not fit in the 5 left');
    assert.equal(socket.bufferedAmount, 5);
    assert.deepEqual(events, [
      { type: 'senderror', reason: 'queue-full', data: '€€', size: 6, queuedBytes: 5, limit: 10 },
    ]);
    assert.equal(socket.send(new Uint8Array(5)), true);
    assert.equal(socket.bufferedAmount, 10);
    socket.close();
    assert.equal(socket.bufferedAmount, 0);
    assert.deepEqual(events.filter((event) => event.type === 'senderror').map((event) => [event.reason, event.size]),
      [['queue-full', 6], ['closed', 5], ['closed', 5]], 'queued messages discarded by close() are reported');
  });

  test('messages sent before the first open are sent when it opens', async () => {
    const socket = connect();
    socket.send('early 1');
    socket.send('early 2');
    socket.onopen = () => socket.send('from onopen');
    await waitFor(() => server.received.length === 3, 'three messages');
    assert.deepEqual(server.received, ['early 1', 'early 2', 'from onopen']);
  });
});

describe('the browser\'s network events', () => {
  test('offline drops the connection and waits; online reconnects at once', async () => {
    const clock = new FakeClock();
    const network = new EventTarget();
    const socket = connect({ ...timersOf(clock), network });
    await nextEvent(socket, 'open');
    const closed = nextEvent(socket, 'close');
    const reconnecting = nextEvent(socket, 'reconnecting');
    network.dispatchEvent(new Event('offline'));
    const close = await closed;
    assert.deepEqual([close.code, close.reason, close.willReconnect], [1006, 'browser went offline', true]);
    assert.equal((await reconnecting).detail.delay, null);
    assert.deepEqual(clock.pending(), [], 'no attempt while offline');
    clock.advance(60_000);
    assert.equal(socket.readyState, ResilientWebSocket.CONNECTING);
    const reconnected = nextEvent(socket, 'reconnected');
    network.dispatchEvent(new Event('online'));
    await reconnected;
    assert.equal(server.connections.length, 2);
  });
});
