// Many honest sockets with the official socket.io-client, exchanging
// acknowledged events; driven by tests/test_load_with_faults.py.
//
// Usage: node load.mjs   (the scenario as the first line on stdin)
//
// Scenario: {url, tokens: [{token, sub}], sockets, minRounds, maxRounds,
//            broadcasts, ackTimeoutMs, timeoutMs, tag}
//   1. opens `sockets` sockets (websocket; token i of them: tokens[i % n]),
//      then prints {"phase": "ready"} once every one has answered;
//   2. each socket emits `whoami` with an ack, one after the other, and
//      checks that the ack is its own token's `sub`: at least `minRounds`
//      rounds, and then until a line "stop" arrives on stdin (at most
//      `maxRounds`);
//   3. the first `broadcasts` sockets emit `message` {text} with an ack, and
//      every socket waits until it has received each of them;
//   4. closes every socket and prints the counts as one JSON line.
// Exits 0 after the counts (the test judges them), 2 when the whole run
// outlives timeoutMs, 3 on a bad scenario or an unexpected error.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
let stopped = false;

async function readScenario() {
  const { value, done } = await lines.next();
  if (done) throw new Error("no scenario on stdin");
  const scenario = JSON.parse(value);
  if (typeof scenario.url !== "string") throw new Error("scenario.url is required");
  if (!Array.isArray(scenario.tokens) || scenario.tokens.length === 0) {
    throw new Error("scenario.tokens is required");
  }
  return scenario;
}

async function watchForStop() {
  for (;;) {
    const { value, done } = await lines.next();
    if (done || value.trim() === "stop") break;
  }
  stopped = true;
}

function emptyCounts() {
  return {
    sockets: 0, connected: 0, connectErrors: [], unexpectedDisconnects: [],
    sent: 0, acked: 0, wrongAcks: 0, failedAcks: [],
    broadcastsSent: 0, broadcastsAcked: 0, deliveries: 0, missingDeliveries: 0,
  };
}

function open(url, { token }, connectTimeoutMs, counts) {
  const socket = io(url, {
    transports: ["websocket"], reconnection: false, forceNew: true, auth: { token },
    timeout: connectTimeoutMs,
  });
  socket.received = new Set();
  socket.closing = false;
  return new Promise((resolve) => {
    socket.once("connect", () => {
      counts.connected += 1;
      socket.on("disconnect", (reason) => {
        if (!socket.closing) counts.unexpectedDisconnects.push(reason);
      });
      resolve(socket);
    });
    socket.once("connect_error", (err) => {
      counts.connectErrors.push(err.data ? err.data.code : err.message);
      resolve(socket);
    });
  });
}

async function exchange(socket, sub, scenario, counts) {
  for (let round = 0; round < scenario.maxRounds; round++) {
    if (stopped && round >= scenario.minRounds) return;
    counts.sent += 1;
    try {
      const claims = await socket.timeout(scenario.ackTimeoutMs).emitWithAck("whoami");
      if (claims && claims.sub === sub) counts.acked += 1;
      else counts.wrongAcks += 1;
    } catch (err) {
      counts.failedAcks.push(String(err && err.message ? err.message : err));
    }
  }
}

function listen(socket, prefix) {
  socket.on("message", (payload) => {
    if (payload && typeof payload.text === "string" && payload.text.startsWith(prefix)) {
      socket.received.add(payload.text);
    }
  });
}

async function broadcast(sockets, scenario, counts) {
  const prefix = `${scenario.tag}-broadcast-`;
  const texts = [];
  for (let i = 0; i < scenario.broadcasts; i++) texts.push(prefix + i);
  const answers = texts.map(async (text, i) => {
    counts.broadcastsSent += 1;
    try {
      const ack = await sockets[i].timeout(scenario.ackTimeoutMs).emitWithAck("message", { text });
      if (ack && ack.ok === true) counts.broadcastsAcked += 1;
    } catch (err) {
      counts.failedAcks.push(String(err && err.message ? err.message : err));
    }
  });
  await Promise.all(answers);
  const deadline = Date.now() + scenario.ackTimeoutMs;
  const complete = () => sockets.every((s) => s.received.size === texts.length);
  while (!complete() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const socket of sockets) {
    counts.deliveries += socket.received.size;
    counts.missingDeliveries += texts.length - socket.received.size;
  }
}

async function run(scenario) {
  const counts = emptyCounts();
  const tokens = scenario.tokens;
  const pending = [];
  for (let i = 0; i < scenario.sockets; i++) {
    pending.push(open(scenario.url, tokens[i % tokens.length], scenario.ackTimeoutMs, counts));
  }
  const sockets = await Promise.all(pending);
  counts.sockets = sockets.length;
  try {
    const live = sockets.filter((s) => s.connected);
    live.forEach((socket) => listen(socket, `${scenario.tag}-broadcast-`));
    process.stdout.write(JSON.stringify({ phase: "ready" }) + "\n");
    await Promise.all(
      sockets.map((socket, i) =>
        socket.connected ? exchange(socket, tokens[i % tokens.length].sub, scenario, counts) : null,
      ),
    );
    if (live.length >= scenario.broadcasts) await broadcast(live, scenario, counts);
  } finally {
    for (const socket of sockets) {
      socket.closing = true;
      socket.close();
    }
  }
  return counts;
}

class TimeoutError extends Error {
  constructor(ms) {
    super(`no result within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

function withTimeout(work, ms) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function finish(stream, line, code) {
  stream.write(line + "\n", () => process.exit(code));
}

try {
  const scenario = await readScenario();
  watchForStop();
  const counts = await withTimeout(run(scenario), scenario.timeoutMs);
  finish(process.stdout, JSON.stringify({ phase: "done", ...counts }), 0);
} catch (err) {
  const code = err instanceof TimeoutError ? 2 : 3;
  finish(process.stderr, `load.mjs: ${err && err.stack ? err.stack : err}`, code);
}
