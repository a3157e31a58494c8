// One long-lived socket of the official socket.io-client with reconnection
// on, driven line by line by tests/test_recovery_node.py.
//
// Usage: node recovery.mjs '<scenario JSON>'
//   scenario: {url, token, transports, delayMs}
//
// Prints one JSON line per thing that happens:
//   {"event": "connect", "id", "recovered", "pid"}   (pid: the private id it holds)
//   {"event": "disconnect", "reason"}
//   {"event": "connect_error", "message", "data"}
//   {"event": "message", "args": [...]}               (every "message" event)
//   {"event": "whoami", "claims"}
// Reads one JSON command per line on stdin:
//   {"cmd": "whoami"}                 emit whoami, print its ack
//   {"cmd": "close"}                  socket.io.engine.close() (a transport cut)
//   {"cmd": "token", "token": T}      the auth callback hands T from now on
//   {"cmd": "pid", "pid": P, "offset": O}  claim another private id (hostile)
//   {"cmd": "exit"}                   close the socket and exit 0
// Exits 2 after maxMs whatever happens, so that it never outlives the test.
import { io } from "socket.io-client";
import { createInterface } from "node:readline";

const scenario = JSON.parse(process.argv[2]);
let token = scenario.token;
const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const delay = scenario.delayMs ?? 300;

const socket = io(scenario.url, {
  transports: scenario.transports || ["websocket"],
  forceNew: true,
  reconnectionDelay: delay,
  reconnectionDelayMax: delay,
  randomizationFactor: 0,
  auth: (cb) => cb({ token }),
});

socket.on("connect", () => {
  // _pid is the client's private copy of the server's pid (socket.ts onconnect).
  print({ event: "connect", id: socket.id, recovered: socket.recovered, pid: socket._pid });
});
socket.on("disconnect", (reason) => print({ event: "disconnect", reason }));
socket.on("connect_error", (err) => {
  print({ event: "connect_error", message: err.message, data: err.data ?? null });
});
socket.on("message", (...args) => print({ event: "message", args }));

const timer = setTimeout(() => {
  process.stderr.write("recovery.mjs: timed out\n");
  socket.close();
  process.exit(2);
}, scenario.maxMs ?? 30_000);

const lines = createInterface({ input: process.stdin });
lines.on("line", async (text) => {
  const command = JSON.parse(text);
  switch (command.cmd) {
    case "whoami": {
      const claims = await socket.timeout(5000).emitWithAck("whoami");
      print({ event: "whoami", claims });
      break;
    }
    case "close":
      socket.io.engine.close();
      break;
    case "token":
      token = command.token;
      break;
    case "pid":
      socket._pid = command.pid;
      socket._lastOffset = command.offset;
      break;
    case "exit":
      clearTimeout(timer);
      socket.close();
      lines.close();
      process.exit(0);
  }
});
