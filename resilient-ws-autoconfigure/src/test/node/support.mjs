// Helpers for the browser client's tests: a manual clock, bounded waits, and a free port.
import net from 'node:net';

/**
 * Timers and a clock that move only when a test says so. Injected as the client's setTimeout,
 * clearTimeout and now, so backoff and heartbeat timing is asserted exactly, while the network stays real.
 */
export class FakeClock {
  time = 0;
  #timers = new Map();
  #nextId = 1;

  now = () => this.time;

  setTimeout = (callback, ms) => {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.time + Math.max(0, ms ?? 0), callback });
    return id;
  };

  clearTimeout = (id) => {
    this.#timers.delete(id);
  };

  /** Moves time forward, running every timer that falls due, in order of due time. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, timer]) => timer.at <= end)
        .sort(([idA, a], [idB, b]) => a.at - b.at || idA - idB)[0];
      if (!due) {
        break;
      }
      const [id, timer] = due;
      this.#timers.delete(id);
      this.time = timer.at;
      timer.callback();
    }
    this.time = end;
  }

  /** Delays, from now, of the timers still pending. */
  pending() {
    return [...this.#timers.values()].map((timer) => timer.at - this.time).sort((a, b) => a - b);
  }
}

/** The next event of that type, or a rejection after `timeout` ms. */
export function nextEvent(target, type, timeout = 5000) {
  return new Promise((resolve, reject) => {
    const listener = (event) => {
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve(event);
    };
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener);
      reject(new Error(`no '${type}' event within ${timeout} ms`));
    }, timeout);
    target.addEventListener(type, listener);
  });
}

/** Polls until `condition()` holds; rejects after `timeout` ms saying what was awaited. */
export async function waitFor(condition, description, timeout = 5000) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${description}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Records every event of the client, in dispatch order, as small plain objects. */
export function recordEvents(socket) {
  const events = [];
  for (const type of ['open', 'message', 'error', 'close', 'reconnecting', 'reconnected', 'senderror']) {
    socket.addEventListener(type, (event) => {
      switch (type) {
        case 'message': events.push({ type, data: event.data }); break;
        case 'close': events.push({
          type, code: event.code, reason: event.reason, wasClean: event.wasClean, willReconnect: event.willReconnect,
        }); break;
        case 'reconnecting':
        case 'reconnected':
        case 'senderror': events.push({ type, ...event.detail }); break;
        default: events.push({ type });
      }
    });
  }
  return events;
}

/** A loopback port nothing listens on (taken and released), so connects are refused at once. */
export async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
