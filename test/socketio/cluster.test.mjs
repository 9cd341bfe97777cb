// Three nodes sharing Redis: room broadcasts and presence across nodes, typing between users, a
// node killed with SIGKILL and a node restarted. The tests of this file run in order.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { config, control, signUp, conversation, client, connect, ask, next, closeAll, absent } from "./lib.mjs";

// Rooms are real conversations: a group of the three, and direct ones.
let cfg, alice, bob, carol, lobby, chat, elsewhere, carolsOther;
before(async () => {
  cfg = await config();
  [alice, bob, carol] = await Promise.all([signUp(), signUp(), signUp()]);
  lobby = (await conversation(alice, [bob, carol], "Lobby")).room;
  chat = (await conversation(alice, [bob])).room;
  elsewhere = (await conversation(alice, [carol])).room;
  carolsOther = (await conversation(carol, [bob])).room;
});
after(closeAll);

// ws is the options of a websocket client of token; auth entries are added to the token.
const ws = (token, { auth = {}, ...rest } = {}) => ({ transports: ["websocket"], ...rest, auth: { token, ...auth } });

test("clients spread over three nodes receive each other's room broadcasts", async () => {
  const users = [alice, bob, carol];
  const sockets = await Promise.all(cfg.nodes.map((url, i) => connect(client(url, ws(users[i].token)))));
  for (const s of sockets) assert.equal((await ask(s, "room:join", { room: lobby })).ok, true);

  // A client's typing is a room broadcast from its node to the others.
  for (const [i, sender] of sockets.entries()) {
    const others = sockets.filter((_, j) => j !== i);
    const got = others.map((s) => next(s, "typing:start", { pred: (p) => p.userId === users[i].userId }));
    const own = absent(sender, "typing:start");
    assert.equal((await ask(sender, "typing:start", { room: lobby })).ok, true);
    for (const p of await Promise.all(got)) assert.deepEqual(p, { room: lobby, userId: users[i].userId });
    assert.equal((await ask(sender, "typing:stop", { room: lobby })).ok, true);
    assert.ok(own(), "the sender does not hear its own typing");
  }

  // The Redis emitter (REST handlers, workers) reaches every node.
  const all = sockets.map((s) => next(s, "topic:post:new"));
  await control("/emit", { room: lobby, event: "topic:post:new", payload: { postId: "p1", body: "hi" } });
  for (const p of await Promise.all(all)) assert.deepEqual(p, { postId: "p1", body: "hi" });
  for (const s of sockets) s.disconnect();
});

test("presence is the same seen from every node, with several tabs", async () => {
  const watchers = await Promise.all(cfg.nodes.map((url) => connect(client(url, ws(carol.token)))));
  for (const w of watchers) {
    const ack = await ask(w, "presence:subscribe", { userIds: [bob.userId] });
    assert.equal(ack.ok, true);
    assert.deepEqual(ack.data.users.map((u) => u.status), ["offline"]);
  }
  const isBob = (status) => ({ pred: (u) => u.userId === bob.userId && u.status === status });

  let seen = watchers.map((w) => next(w, "presence:update", isBob("online")));
  const tab1 = await connect(client(cfg.nodes[0], ws(bob.token)));
  await Promise.all(seen);
  const tab2 = await connect(client(cfg.nodes[2], ws(bob.token)));
  await ask(tab2, "hub:echo", null); // its connect work is done before its first event

  seen = watchers.map((w) => next(w, "presence:update", isBob("away")));
  assert.equal((await ask(tab1, "presence:set", { status: "away" })).ok, true);
  assert.equal((await ask(tab2, "presence:set", { status: "away" })).ok, true);
  await Promise.all(seen);

  seen = watchers.map((w) => next(w, "presence:update", isBob("offline")));
  tab1.disconnect();
  tab2.disconnect();
  const offline = await Promise.all(seen);
  for (const u of offline) assert.ok(u.lastSeen, "offline carries the last-seen time");
  for (const w of watchers) {
    const ack = await ask(w, "presence:subscribe", { userIds: [bob.userId] });
    assert.equal(ack.data.users[0].status, "offline");
    w.disconnect();
  }
});

test("typing between two users, with the server-side expiry", { timeout: 30_000 }, async () => {
  const a = await connect(client(cfg.nodes[0], ws(alice.token)));
  const b = await connect(client(cfg.nodes[1], ws(bob.token)));
  for (const s of [a, b]) assert.equal((await ask(s, "room:join", { room: chat })).ok, true);
  let got = next(b, "typing:start");
  await ask(a, "typing:start", { room: chat });
  assert.deepEqual(await got, { room: chat, userId: alice.userId });
  got = next(b, "typing:stop");
  await ask(a, "typing:stop", { room: chat });
  assert.deepEqual(await got, { room: chat, userId: alice.userId, expired: false });

  // No refresh: the server ends it after hub.typing_ttl (6 s).
  got = next(b, "typing:start");
  await ask(a, "typing:start", { room: chat });
  await got;
  const started = Date.now();
  const stop = await next(b, "typing:stop", { ms: 15_000 });
  assert.equal(stop.expired, true);
  assert.ok(Date.now() - started >= 5_000, "not before the TTL");

  // Typing needs the room; payloads are validated.
  assert.equal((await ask(b, "typing:start", { room: elsewhere })).error.code, "forbidden");
  assert.equal((await ask(b, "typing:start", {})).error.code, "validation_failed");
  a.disconnect();
  b.disconnect();
});

test("a node killed with SIGKILL: its users go offline within 60 s, its clients reconnect elsewhere", { timeout: 90_000 }, async () => {
  const [gone, moving] = [alice, bob];
  const watcher = await connect(client(cfg.nodes[0], ws(carol.token)));
  await ask(watcher, "presence:subscribe", { userIds: [gone.userId, moving.userId] });

  await control("/route", { node: 1 });
  const onlineSeen = next(watcher, "presence:update", { pred: (u) => u.userId === gone.userId && u.status === "online" });
  // A client that will not come back (a closed laptop) and one that reconnects, both on node 1.
  const dead = await connect(client(cfg.balancer, ws(gone.token, { reconnection: false })));
  const live = await connect(client(cfg.balancer, ws(moving.token, { auth: { resume: "tab-sigkill-1" }, reconnectionDelay: 200, reconnectionDelayMax: 1000 })));
  assert.equal((await ask(live, "room:join", { room: lobby })).ok, true);
  await onlineSeen;

  await control("/route", { node: 2 });
  const restored = next(live, "room:restored", { ms: 20_000 });
  const offline = next(watcher, "presence:update", { ms: 70_000, pred: (u) => u.userId === gone.userId && u.status === "offline" });
  const killedAt = Date.now();
  await control("/kill", { node: 1 });

  assert.deepEqual(await restored, { rooms: [lobby] }, "the reconnected client is back in its rooms");
  const inRoom = next(live, "topic:post:new");
  await control("/emit", { room: lobby, event: "topic:post:new", payload: { n: 1 } });
  assert.deepEqual(await inRoom, { n: 1 });

  await offline;
  const took = Date.now() - killedAt;
  assert.ok(took <= 60_000, `offline after ${took} ms`);
  const ack = await ask(watcher, "presence:subscribe", { userIds: [moving.userId] });
  assert.equal(ack.data.users[0].status, "online", "the user who reconnected stays online");
  assert.equal(dead.connected, false);
  live.disconnect();
  watcher.disconnect();
  await control("/start", { node: 1 });
});

test("a restarted node: its clients get their rooms back after reconnecting", { timeout: 60_000 }, async () => {
  await control("/route", { node: 2, strict: true });
  const s = await connect(client(cfg.balancer, ws(carol.token, { auth: { resume: "tab-restart-1" }, reconnectionDelay: 200, reconnectionDelayMax: 1000 })));
  for (const room of [lobby, carolsOther]) assert.equal((await ask(s, "room:join", { room })).ok, true);
  await ask(s, "room:leave", { room: carolsOther });

  const dropped = new Promise((resolve) => s.once("disconnect", resolve));
  const restored = next(s, "room:restored", { ms: 45_000 });
  await control("/stop", { node: 2 }); // SIGTERM: the node drains, closing its sockets
  assert.equal(await dropped, "transport close", "a drained socket is told to reconnect, not sent away");
  await control("/start", { node: 2 });
  assert.deepEqual(await restored, { rooms: [lobby] });
  const got = next(s, "topic:post:new");
  await control("/emit", { room: lobby, event: "topic:post:new", payload: { n: 2 } });
  assert.deepEqual(await got, { n: 2 });
  s.disconnect();
  await control("/route", { node: 0, strict: false });
});
