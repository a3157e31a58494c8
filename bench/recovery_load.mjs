// The recovery section's load: R receivers of the official socket.io-client
// behind a TCP proxy, one sender beside it emitting a burst of chat messages;
// the proxy drops every receiver's connection during the burst and refuses
// them for cutMs, then lets them back.
//
// node bench/recovery_load.mjs '{"port", "tokens", "receivers", "burst", "rate", "cutAt", "cutMs"}'
// Across processes, optional: "healPort" (the proxy's upstream once they are let
// back), "senderPorts" (the burst is sent through each in turn; default [port])
// and "orderBy": "offset" (in order: by the offset each event carries last, a
// "<ms>-<seq>" stream id, since events sent through several processes have one
// order, the buffer's, not the order they were sent in).
// Prints progress lines {"phase": "cut" | "burst_done" | "healed"} and a last
// {"phase": "result", ...} line.
import net from "node:net";
import { io } from "socket.io-client";

const cfg = JSON.parse(process.argv[2]);
const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const now = () => performance.now();

let down = false;
let upstreamPort = cfg.port;
const links = new Set();
const proxy = net.createServer((client) => {
  if (down) return client.destroy();
  const upstream = net.connect(upstreamPort, "127.0.0.1");
  const link = [client, upstream];
  links.add(link);
  const end = () => {
    links.delete(link);
    client.destroy();
    upstream.destroy();
  };
  for (const side of link) {
    side.on("error", end);
    side.on("close", end);
  }
  client.pipe(upstream);
  upstream.pipe(client);
});
await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
const proxyUrl = `http://127.0.0.1:${proxy.address().port}`;

function open(url, token) {
  return io(url, {
    transports: ["websocket"],
    forceNew: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 100,
    randomizationFactor: 0,
    auth: (cb) => cb({ token }),
  });
}

const receivers = [];
for (let i = 0; i < cfg.receivers; i++) {
  const socket = open(proxyUrl, cfg.tokens[(i + 1) % cfg.tokens.length]);
  const state = { socket, seen: new Set(), duplicates: 0, outOfOrder: 0, last: -1,
    lastOffset: [-1, -1], connects: 0, recovered: false, latencyMs: null };
  socket.on("connect", () => {
    state.connects += 1;
    if (state.connects > 1) {
      state.recovered = socket.recovered === true;
      if (healedAt !== null) state.latencyMs = now() - healedAt;
    }
  });
  socket.on("message", (msg, offset) => {
    const n = Number(String(msg && msg.text).split(" ")[1]);
    if (!Number.isInteger(n)) return;
    if (state.seen.has(n)) state.duplicates += 1;
    else if (cfg.orderBy === "offset" ? !after(offset, state) : n < state.last) {
      state.outOfOrder += 1;
    }
    state.seen.add(n);
    state.last = Math.max(state.last, n);
  });
  receivers.push(state);
}
let healedAt = null;

// Whether a "<ms>-<seq>" offset comes after the last one seen (then kept).
function after(offset, state) {
  const [ms, seq] = String(offset).split("-").map(Number);
  const [lastMs, lastSeq] = state.lastOffset;
  if (!Number.isInteger(ms) || !Number.isInteger(seq)) return false;
  if (ms < lastMs || (ms === lastMs && seq <= lastSeq)) return false;
  state.lastOffset = [ms, seq];
  return true;
}
await Promise.all(receivers.map((r) => new Promise((resolve) => {
  if (r.socket.connected) resolve(); else r.socket.once("connect", resolve);
})));

const senders = (cfg.senderPorts || [cfg.port]).map(
  (port) => open(`http://127.0.0.1:${port}`, cfg.tokens[0]));
await Promise.all(senders.map((sender) => new Promise((resolve) => {
  if (sender.connected) resolve(); else sender.once("connect", resolve);
})));
const gap = 1000 / cfg.rate;
for (let n = 0; n < cfg.burst; n++) {
  if (n === cfg.cutAt) {
    down = true;
    for (const [client, upstream] of links) { client.destroy(); upstream.destroy(); }
    print({ phase: "cut" });
    setTimeout(() => {
      upstreamPort = cfg.healPort || cfg.port;
      down = false;
      healedAt = now();
      print({ phase: "healed" });
    }, cfg.cutMs);
  }
  senders[n % senders.length].emit("message", { text: `burst ${n}` });
  await new Promise((resolve) => setTimeout(resolve, gap));
}
print({ phase: "burst_done" });
const deadline = now() + 20_000;
while (now() < deadline &&
       (healedAt === null || receivers.some((r) => r.seen.size < cfg.burst))) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const result = {
  phase: "result",
  delivered: receivers.reduce((sum, r) => sum + r.seen.size, 0),
  expected: cfg.burst * cfg.receivers,
  duplicates: receivers.reduce((sum, r) => sum + r.duplicates, 0),
  outOfOrder: receivers.reduce((sum, r) => sum + r.outOfOrder, 0),
  recovered: receivers.filter((r) => r.recovered).length,
  latenciesMs: receivers.map((r) => r.latencyMs).filter((x) => x !== null),
};
print(result);
for (const r of receivers) r.socket.close();
for (const sender of senders) sender.close();
proxy.close();
process.exit(0);
