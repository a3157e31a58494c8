// Sessions with the official socket.io-client, written the way socketio-jwt's
// and @thream/socketio-jwt's test suites write them; driven by
// tests/test_peer_suites.py.
//
// Usage: node peers.mjs '<scenario JSON>'   (or the scenario on stdin)
//
// Scenario: {sessions: [session, ...], timeoutMs}, run in order in one
// process (so a session without forceNew shares the Manager of an earlier one,
// as in "...without forceNew").
// Session: {url, options, emits: [[event, data]], on: {event: [[event, data]]},
//           ack: [event], until: [event], quietMs}
//   url:     the full URL, namespace included (io(url, options));
//   options: io()'s options, as the upstream test passes them;
//   emits:   emitted at once, before the connection is up (socket.io-client
//            buffers them), as `.emit('authenticate', {token})` upstream;
//   on:      when the event arrives, emit these;
//   ack:     events whose acknowledgement callback the client calls;
//   until:   the session ends when one of these is seen ("connect",
//            "connect_error", "disconnect" or any server event);
//   untilAll: ... or when all of these were seen;
//   quietMs: otherwise it ends after this many ms (default 1500).
//
// Prints one JSON line, {sessions: [[{event, args, at}, ...], ...]}: what each
// session saw, in order, with ms since its start. Exits 2 when the whole run
// outlives timeoutMs, 3 on a bad scenario.
import { io } from "socket.io-client";

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_QUIET_MS = 1_500;

function readStdin() {
  return new Promise((resolve, reject) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => { text += chunk; });
    process.stdin.on("end", () => resolve(text));
    process.stdin.on("error", reject);
  });
}

function plain(value) {
  if (value instanceof Error) {
    return { message: value.message, data: value.data ?? null };
  }
  return value === undefined ? null : value;
}

function session(spec) {
  const seen = [];
  const started = Date.now();
  const socket = io(spec.url, { reconnection: false, ...(spec.options || {}) });
  const untilEvents = new Set(spec.until || []);
  const untilAll = new Set(spec.untilAll || []);
  const acked = new Set(spec.ack || []);
  const reactions = spec.on || {};
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      socket.close();
      resolve(seen);
    };
    const record = (event, args) => {
      if (done) return;
      seen.push({ event, args: args.map(plain), at: Date.now() - started });
      for (const [name, data] of reactions[event] || []) socket.emit(name, data);
      untilAll.delete(event);
      if (untilEvents.has(event) || (spec.untilAll && untilAll.size === 0)) finish();
    };
    socket.on("connect", () => record("connect", []));
    socket.on("connect_error", (err) => record("connect_error", [err]));
    socket.on("disconnect", (reason) => record("disconnect", [reason]));
    socket.onAny((event, ...args) => {
      const last = args[args.length - 1];
      if (typeof last === "function") {
        args = args.slice(0, -1);
        if (acked.has(event)) last();
      }
      record(event, args);
    });
    for (const [name, data] of spec.emits || []) socket.emit(name, data);
    const quiet = setTimeout(finish, spec.quietMs ?? DEFAULT_QUIET_MS);
  });
}

async function run(scenario) {
  const results = [];
  for (const spec of scenario.sessions) results.push(await session(spec));
  return { sessions: results };
}

function finish(stream, line, code) {
  stream.write(line + "\n", () => process.exit(code));
}

try {
  const text = process.argv.length > 2 ? process.argv[2] : await readStdin();
  const scenario = JSON.parse(text);
  if (!Array.isArray(scenario.sessions)) throw new Error("scenario.sessions is required");
  const timeoutMs = scenario.timeoutMs || DEFAULT_TIMEOUT_MS;
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs} ms`)), timeoutMs);
  });
  const outcome = await Promise.race([run(scenario), timeout]);
  clearTimeout(timer);
  finish(process.stdout, JSON.stringify(outcome), 0);
} catch (err) {
  const code = String(err).includes("no result within") ? 2 : 3;
  finish(process.stderr, `peers.mjs: ${err && err.stack ? err.stack : err}`, code);
}
