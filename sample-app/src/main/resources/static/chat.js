// The javascript.info chat on the resilient-ws browser client. The client is served by the starter
// itself; it keeps the browser WebSocket API and adds the heartbeat, reconnects and the queue.
import { ResilientWebSocket } from '/resilient-ws/resilient-ws.js';

// Timing can be shortened from the address bar (the browser tests do): ?heartbeat=1000&timeout=1000
const params = new URLSearchParams(location.search);
const number = (name, fallback) => (params.has(name) ? Number(params.get(name)) : fallback);

const url = new URL('/chat', location.href);
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

const socket = new ResilientWebSocket(url.href, [], {
  heartbeatInterval: number('heartbeat', 10000),
  heartbeatTimeout: number('timeout', 5000),
  initialDelay: number('initialDelay', 500),
  maxDelay: 10000,
  // One chat session across reconnects: what was said while this page was offline arrives after it is
  // back, once each, in order (the server has resilient-ws.server.resume.enabled=true). ?resume=0 turns it off.
  resume: number('resume', 1) === 1,
});

const status = document.getElementById('status');
const messages = document.getElementById('messages');
const input = document.getElementById('message');
let countdown;

function showStatus(state, text) {
  clearInterval(countdown);
  status.dataset.state = state;
  status.textContent = text;
}

// Which instance this page talks to, asked at every open (after a restart it may be another one) and
// every 5 s (the cluster's status changes while the socket stays open). In the cluster run of the
// README two instances share one chat.
function showInstance() {
  fetch('/instance')
    .then((response) => response.json())
    .then((instance) => {
      document.getElementById('instance').textContent = instance.cluster === 'SINGLE_INSTANCE'
        ? `single instance, port ${instance.port}`
        : `instance ${instance.nodeId}, port ${instance.port} (cluster ${instance.cluster}: ${instance.instances} instances)`;
    })
    .catch(() => {});
}

setInterval(showInstance, 5000);

socket.addEventListener('open', () => {
  showStatus('open', 'connected');
  showInstance();
});

socket.addEventListener('reconnecting', (event) => {
  const { attempt, delay } = event.detail;
  if (delay === null) {
    showStatus('offline', 'offline: waiting for the network');
    return;
  }
  const due = Date.now() + delay;
  const tick = () => {
    const seconds = Math.max(0, Math.ceil((due - Date.now()) / 1000));
    status.textContent = `reconnecting in ${seconds} s (attempt ${attempt})`;
  };
  showStatus('reconnecting', '');
  tick();
  countdown = setInterval(tick, 250);
});

socket.addEventListener('reconnected', (event) => {
  if (event.detail.recovered === false) {
    // A new session: what was said while this page was away is not coming.
    const item = document.createElement('li');
    item.className = 'pending';
    item.textContent = `reconnected as a new session (${event.detail.reason}): messages from while you were away may be missing`;
    messages.append(item);
  }
});

socket.addEventListener('close', (event) => {
  if (!event.willReconnect) {
    showStatus('closed', `disconnected (${event.code}${event.reason ? ': ' + event.reason : ''})`);
  }
});

socket.addEventListener('message', (event) => {
  const item = document.createElement('li');
  item.textContent = event.data;
  messages.append(item);
});

socket.addEventListener('senderror', (event) => {
  const item = document.createElement('li');
  item.className = 'pending';
  item.textContent = `not sent (${event.detail.reason}): ${event.detail.data}`;
  messages.append(item);
});

document.getElementById('publish').addEventListener('submit', (event) => {
  event.preventDefault();
  // Accepted while disconnected too: it waits in the client's queue and goes out after the reconnect.
  socket.send(input.value);
  input.value = '';
});

// For the browser tests and the curious: the socket, from the console.
window.chat = { socket };
