// The reference servers of the official test suites (README "Test suite" sections of
// socketio/engine.io-protocol and socketio/socket.io-protocol), served by one process on one port so
// that both suites run against it exactly as they run against test/conformance/server (Go):
// an Engine.IO echo on /engine.io/ and a Socket.IO server on /socket.io/.
import { createServer } from "node:http";
import { Server as EngineServer } from "engine.io";
import { Server as SocketServer } from "socket.io";

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || "127.0.0.1";

const options = {
  pingInterval: 300,
  pingTimeout: 200,
  maxPayload: 1e6,
  cors: { origin: "*" },
  // Two servers share one HTTP server: each must leave the other's WebSocket upgrades alone
  // (by default an engine.io server destroys upgrades on paths it does not own).
  destroyUpgrade: false,
};

const http = createServer();

// engine.io-protocol README: every message is sent back as it came.
const engine = new EngineServer(options);
engine.attach(http, { path: "/engine.io", destroyUpgrade: false });
engine.on("connection", (socket) => {
  socket.on("data", (...args) => {
    socket.send(...args);
  });
});

// socket.io-protocol README.
const io = new SocketServer(http, { ...options, path: "/socket.io", connectTimeout: 1000 });
io.on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);

  socket.on("message", (...args) => {
    socket.emit.apply(socket, ["message-back", ...args]);
  });

  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
});
io.of("/custom").on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
});

http.listen(port, host, () => {
  console.log(`reference server listening on http://${host}:${port} (/engine.io/, /socket.io/)`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    io.close();
    engine.close();
    http.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  });
}
