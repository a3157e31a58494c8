// The bench's load: the official socket.io-client (from node_modules), driven
// by bench/run.py one command at a time.
//
// node bench/load.mjs '{"url": "http://127.0.0.1:P", "tokens": "FILE"}'
// reads one JSON command per line on stdin and answers one JSON line on
// stdout when it is done, so the harness can read the server's CPU between
// commands. Every wait is bounded; 127.0.0.1 only (the harness gives the URL).
//
// {"cmd": "connect", "group": G, "n": N, "transport": "websocket"|"polling",
//  "token": "good"|"bad", "concurrency": C}      open N sockets into group G
//   optional "local_addresses": ["127.0.1.1", ...]: the sockets' source
//   addresses, in turn (so that nginx's ip_hash spreads one machine's load)
// {"cmd": "close", "group": G}                   disconnect every socket of G
// {"cmd": "count", "group": G}                   sockets of G still connected
// {"cmd": "rt", "group": G, "seconds": S, "pace_ms": 0, "storm": null|{...}}
//   every socket of G emits whoami with ack in a loop for S seconds; storm
//   {"url", "concurrency", "username", "password"} POSTs wrong logins meanwhile
// {"cmd": "quit"}
import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const config = JSON.parse(process.argv[2]);
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(config.url)) {
  throw new Error(`load targets 127.0.0.1 only, not ${config.url}`);
}
const tokens = JSON.parse(readFileSync(config.tokens, "utf8"));
const CONNECT_TIMEOUT_MS = 20000;
const ACK_TIMEOUT_MS = 5000;
const groups = new Map();
let tokenIndex = 0;

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

function summary(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  return {
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    max_ms: sorted.length ? sorted[sorted.length - 1] : null,
  };
}

function nextToken(kind) {
  if (kind === "bad") return tokens.bad;
  const token = tokens.good[tokenIndex % tokens.good.length];
  tokenIndex += 1;
  return token;
}

const agents = new Map(); // polling's HTTP agent per source address

function source(localAddress) {
  if (!localAddress) return {};
  if (!/^127\.\d+\.\d+\.\d+$/.test(localAddress)) throw new Error("127/8 only");
  if (!agents.has(localAddress)) agents.set(localAddress, new Agent({ localAddress }));
  return { localAddress, agent: agents.get(localAddress) };
}

function openSocket(transport, token, localAddress) {
  const started = performance.now();
  const socket = io(config.url, {
    transports: [transport],
    auth: { token },
    forceNew: true, // one connection per socket, never multiplexed
    reconnection: false,
    timeout: CONNECT_TIMEOUT_MS,
    ...source(localAddress), // polling uses the agent, WebSocket localAddress
  });
  return new Promise((resolve) => {
    socket.once("connect", () =>
      resolve({ socket, ok: true, ms: performance.now() - started }),
    );
    socket.once("connect_error", (err) =>
      resolve({
        socket,
        ok: false,
        ms: performance.now() - started,
        code: (err.data && err.data.code) || err.message || "error",
      }),
    );
  });
}

async function connect({ group, n, transport, token, concurrency, local_addresses }) {
  const sockets = groups.get(group) || [];
  groups.set(group, sockets);
  const latencies = [];
  const refused = {};
  let ok = 0;
  let started = 0;
  const t0 = performance.now();
  async function worker() {
    while (started < n) {
      const address = local_addresses && local_addresses[started % local_addresses.length];
      started += 1;
      const result = await openSocket(transport, nextToken(token), address);
      sockets.push(result.socket);
      latencies.push(result.ms);
      if (result.ok) ok += 1;
      else refused[result.code] = (refused[result.code] || 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { n, ok, refused, seconds, rate: n / seconds, ...summary(latencies) };
}

function close({ group }) {
  const sockets = groups.get(group) || [];
  for (const socket of sockets) socket.disconnect();
  groups.delete(group);
  return { closed: sockets.length };
}

function count({ group }) {
  const sockets = groups.get(group) || [];
  return { total: sockets.length, connected: sockets.filter((s) => s.connected).length };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function storm({ url, concurrency, username, password }, deadline) {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error("127.0.0.1 only");
  const statuses = {};
  const body = JSON.stringify({ username, password });
  async function worker() {
    while (performance.now() < deadline) {
      let status;
      try {
        const response = await fetch(url, {
          method: "POST",
          body,
          headers: { "Content-Type": "application/json" },
          signal: AbortSignal.timeout(10000),
        });
        await response.arrayBuffer();
        status = String(response.status);
      } catch (err) {
        status = err.name;
      }
      statuses[status] = (statuses[status] || 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

async function roundTrips({ group, seconds, pace_ms: paceMs = 0, storm: stormSpec }) {
  const sockets = (groups.get(group) || []).filter((s) => s.connected);
  const latencies = [];
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  async function loop(socket) {
    while (performance.now() < deadline) {
      const started = performance.now();
      try {
        await socket.timeout(ACK_TIMEOUT_MS).emitWithAck("whoami");
        latencies.push(performance.now() - started);
      } catch (err) {
        errors += 1;
      }
      if (paceMs > 0) await sleep(paceMs);
    }
  }
  const stormDone = stormSpec ? storm(stormSpec, deadline) : Promise.resolve(null);
  await Promise.all(sockets.map(loop));
  const logins = await stormDone;
  const elapsed = (performance.now() - t0) / 1000;
  return {
    sockets: sockets.length,
    count: latencies.length,
    errors,
    seconds: elapsed,
    rate: latencies.length / elapsed,
    logins,
    ...summary(latencies),
  };
}

const commands = { connect, close, count, rt: roundTrips };
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  if (command.cmd === "quit") break;
  let reply;
  try {
    reply = await commands[command.cmd](command);
  } catch (err) {
    reply = { error: String(err && err.stack ? err.stack : err) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
}
for (const group of [...groups.keys()]) close({ group });
process.exit(0);
