// One Socket.IO session with the official socket.io-client, driven by
// tests/test_node_client.py.
//
// Usage: node client.mjs '<scenario JSON>'   (or the scenario on stdin)
//
// Scenario: {url, mode, token, transports, text, payload, timeoutMs}
//   mode: "auth"   -> io(url, {auth: {token}})
//         "query"  -> io(url, {query: "token=" + token})   (the seed's style)
//         "header" -> io(url, {extraHeaders: {Authorization: "Bearer " + token}})
//         "none"   -> no token at all
//   payload: the "message" payload to emit; default {text}.
//
// Prints one JSON line and exits 0:
//   {"connected": true, "whoami": <ack>, "message": <broadcast>}
//   {"connected": false, "message": err.message, "data": err.data}
// Exits 2 (after a line on stderr) when the whole session outlives timeoutMs,
// and 3 on a bad scenario or an unexpected error. The socket is always closed.
import { io } from "socket.io-client";

const DEFAULT_TIMEOUT_MS = 10_000;

function readStdin() {
  return new Promise((resolve, reject) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => { text += chunk; });
    process.stdin.on("end", () => resolve(text));
    process.stdin.on("error", reject);
  });
}

async function readScenario() {
  const text = process.argv.length > 2 ? process.argv[2] : await readStdin();
  const scenario = JSON.parse(text);
  if (typeof scenario.url !== "string") throw new Error("scenario.url is required");
  return scenario;
}

function clientOptions(scenario) {
  const options = {
    transports: scenario.transports || ["websocket"],
    reconnection: false,
    forceNew: true,
  };
  const token = scenario.token;
  switch (scenario.mode) {
    case "auth":
      options.auth = { token };
      break;
    case "query":
      options.query = "token=" + token;
      break;
    case "header":
      options.extraHeaders = { Authorization: "Bearer " + token };
      break;
    case "none":
    case undefined:
      break;
    default:
      throw new Error("unknown mode: " + scenario.mode);
  }
  return options;
}

// Resolves with the first broadcast "message" whose text is ours.
function nextMessage(socket, text) {
  return new Promise((resolve) => {
    const listener = (payload) => {
      if (payload && payload.text === text) {
        socket.off("message", listener);
        resolve(payload);
      }
    };
    socket.on("message", listener);
  });
}

async function chat(socket, scenario, deadlineMs) {
  const text = scenario.text || "hello from node";
  const whoami = await socket.timeout(deadlineMs).emitWithAck("whoami");
  const broadcast = nextMessage(socket, text);
  const payload = scenario.payload || { text };
  await socket.timeout(deadlineMs).emitWithAck("message", payload);
  return { connected: true, whoami, message: await broadcast };
}

function session(scenario) {
  const timeoutMs = scenario.timeoutMs || DEFAULT_TIMEOUT_MS;
  const socket = io(scenario.url, clientOptions(scenario));
  const result = new Promise((resolve, reject) => {
    socket.once("connect", () => {
      chat(socket, scenario, timeoutMs).then(resolve, reject);
    });
    socket.once("connect_error", (err) => {
      resolve({ connected: false, message: err.message, data: err.data ?? null });
    });
  });
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(timeoutMs)), timeoutMs);
  });
  return Promise.race([result, timeout]).finally(() => {
    clearTimeout(timer);
    socket.close();
  });
}

class TimeoutError extends Error {
  constructor(ms) {
    super(`no result within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

function finish(stream, line, code) {
  stream.write(line + "\n", () => process.exit(code));
}

try {
  const outcome = await session(await readScenario());
  finish(process.stdout, JSON.stringify(outcome), 0);
} catch (err) {
  const code = err instanceof TimeoutError ? 2 : 3;
  finish(process.stderr, `client.mjs: ${err && err.stack ? err.stack : err}`, code);
}
