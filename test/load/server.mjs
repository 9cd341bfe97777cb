// The Node.js side of the hub's side-by-side figures: a minimal socket.io 4 server speaking the
// same events as the hub for the load generator (handshake auth.token, room:join with an ack,
// typing:start/stop relayed to the room except the sender, hub:echo). With REDIS_URL set it uses
// the classic Redis adapter, as the hub does across nodes.
//
//   PORT=18090 node test/load/server.mjs            one node
//   PORT=18091 REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY=bench:socket.io node test/load/server.mjs
//
// The token is decoded but not verified (the hub verifies the JWT signature); see docs/perf.md.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT || 18090);
const httpServer = createServer();
const io = new Server(httpServer, {
  pingInterval: 25_000,
  pingTimeout: 20_000,
  connectTimeout: 3_000,
  maxHttpBufferSize: 1e6,
  serveClient: false,
});

if (process.env.REDIS_URL) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const pub = createClient({ url: process.env.REDIS_URL });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub, { key: process.env.REDIS_KEY || "socket.io" }));
}

io.use((socket, next) => {
  const token = socket.handshake.auth?.token;
  if (typeof token !== "string" || token === "") {
    return next(Object.assign(new Error("no access token"), { data: { code: "unauthorized" } }));
  }
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
    socket.data.userId = payload.sub;
    next();
  } catch {
    next(Object.assign(new Error("bad token"), { data: { code: "unauthorized" } }));
  }
});

io.on("connection", (socket) => {
  socket.join(`user:${socket.data.userId}`);
  socket.on("room:join", (p, ack) => {
    if (typeof p?.room !== "string") return ack?.({ ok: false, error: { code: "invalid_request", message: "room" } });
    socket.join(p.room);
    ack?.({ ok: true, data: { room: p.room } });
  });
  for (const ev of ["typing:start", "typing:stop"]) {
    socket.on(ev, (p) => {
      if (typeof p?.room === "string" && socket.rooms.has(p.room)) {
        socket.to(p.room).emit(ev, { room: p.room, userId: socket.data.userId });
      }
    });
  }
  socket.on("hub:echo", (p, ack) => ack?.({ ok: true, data: p }));
});

// The accept queue as long as the Go server's (net.core.somaxconn, 4096 here): Node's default of
// 511 overflowed in the bursts of 5,000 (the kernel dropped SYNs, the clients retried after 1 s).
httpServer.listen({ port, host: "127.0.0.1", backlog: 4096 }, () => console.log(`node socket.io server on :${port} (pid ${process.pid})`));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => { io.close(); process.exit(0); });
