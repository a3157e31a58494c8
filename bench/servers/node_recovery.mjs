// Baseline for the recovery section: node_jwt.mjs's server with socket.io's
// connectionStateRecovery on (its defaults: 2 minutes, skipMiddlewares) and
// the demo chat's "message" broadcast, as this server's.
// JWT_SECRET=... node bench/servers/node_recovery.mjs --port P
import { createServer } from "node:http";
import jwt from "jsonwebtoken";
import { Server } from "socket.io";

const port = Number(process.argv[process.argv.indexOf("--port") + 1]);
const secret = process.env.JWT_SECRET;
const http = createServer();
const io = new Server(http, { connectionStateRecovery: {} });

io.use((socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  jwt.verify(token, secret, { algorithms: ["HS256"] }, (err, decoded) => {
    if (err) return next(new Error("invalid_token"));
    socket.decoded_token = decoded;
    next();
  });
});

io.on("connection", (socket) => {
  socket.on("message", (data) => {
    const sender = { sub: socket.decoded_token.sub, email: socket.decoded_token.email };
    io.emit("message", { from: sender, text: data && data.text, ts: Date.now() / 1000 });
  });
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}

http.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${port}`);
});
