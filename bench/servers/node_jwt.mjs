// Baseline: Node express + socket.io 4.8 + a JWT check (jsonwebtoken 9).
//
// socketio-jwt 4.6 reads the token only from the query string or a header
// (not socket.io 4's handshake.auth) and pins jsonwebtoken 8, so this does
// what it does in a socket.io 4 middleware: verify handshake.auth.token
// (HS256 pinned), keep the claims as socket.decoded_token, refuse with an
// UnauthorizedError carrying {code, type}. Every socket.io default is kept.
// JWT_SECRET=... node bench/servers/node_jwt.mjs --port P
import { createServer } from "node:http";
import express from "express";
import jwt from "jsonwebtoken";
import { Server } from "socket.io";

const port = Number(process.argv[process.argv.indexOf("--port") + 1]);
const secret = process.env.JWT_SECRET;

class UnauthorizedError extends Error {
  constructor(code, message) {
    super(message);
    this.data = { code, type: "UnauthorizedError" };
  }
}

const app = express();
const http = createServer(app);
const io = new Server(http);

io.use((socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  if (typeof token !== "string") {
    return next(new UnauthorizedError("credentials_required", "no token provided"));
  }
  jwt.verify(token, secret, { algorithms: ["HS256"] }, (err, decoded) => {
    if (err) return next(new UnauthorizedError("invalid_token", err.message));
    socket.decoded_token = decoded;
    next();
  });
});

io.on("connection", (socket) => {
  socket.on("whoami", (ack) => {
    if (typeof ack === "function") ack(socket.decoded_token);
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
