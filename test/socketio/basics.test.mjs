// One node: transports, the handshake, acks, binary, rooms and validation.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { config, control, signUp, conversation, client, connect, ask, next, closeAll } from "./lib.mjs";

let url, user, mine, theirs;
before(async () => {
  url = (await config()).nodes[0];
  const [u, peer, a, b] = await Promise.all([signUp(), signUp(), signUp(), signUp()]);
  user = u;
  mine = await conversation(user, [peer]);
  theirs = await conversation(a, [b]);
});
after(closeAll);

test("websocket only", async () => {
  const s = await connect(client(url, { transports: ["websocket"], auth: { token: user.token } }));
  assert.equal(s.io.engine.transport.name, "websocket");
  assert.deepEqual(await ask(s, "hub:echo", { hello: "world" }), { ok: true, data: { hello: "world" } });
  s.disconnect();
});

test("long-polling, then the upgrade to websocket", async () => {
  const s = client(url, { auth: { token: user.token } });
  const upgraded = new Promise((resolve) => s.io.on("open", () => s.io.engine.once("upgrade", (t) => resolve(t.name))));
  await connect(s);
  assert.equal(await upgraded, "websocket");
  assert.deepEqual(await ask(s, "hub:echo", 1), { ok: true, data: 1 });
  s.disconnect();
});

test("polling only", async () => {
  const s = await connect(client(url, { transports: ["polling"], auth: { token: user.token } }));
  assert.equal(s.io.engine.transport.name, "polling");
  assert.deepEqual(await ask(s, "hub:echo", "p"), { ok: true, data: "p" });
  s.disconnect();
});

test("the sAccessToken cookie authenticates too", async () => {
  const s = await connect(client(url, { transports: ["websocket"], extraHeaders: { cookie: `sAccessToken=${user.token}` } }));
  assert.equal((await ask(s, "hub:echo", 2)).ok, true);
  s.disconnect();
});

for (const [name, opts, code] of [
  ["no token", {}, "unauthorized"],
  ["a forged token", { auth: { token: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln" } }, "unauthorized"],
  ["a token that is not a JWT", { auth: { token: "nope" } }, "unauthorized"],
]) {
  test(`refused: ${name}`, async () => {
    const err = await connect(client(url, { transports: ["websocket"], ...opts })).then(() => null, (e) => e);
    assert.ok(err, "the handshake must fail");
    assert.equal(err.data?.code, code, `connect_error ${err.message}`);
  });
}

test("cross-origin websocket: allowed origin accepted, others refused", async () => {
  const ok = await connect(client(url, { transports: ["websocket"], auth: { token: user.token }, extraHeaders: { origin: "http://localhost:5173" } }));
  ok.disconnect();
  const err = await connect(client(url, { transports: ["websocket"], reconnection: false, auth: { token: user.token }, extraHeaders: { origin: "http://evil.example" } }), 5_000).then(() => null, (e) => e);
  assert.ok(err, "an origin outside http.cors_origins is refused");
});

test("binary round trip", async () => {
  const s = await connect(client(url, { transports: ["websocket"], auth: { token: user.token } }));
  const blob = Buffer.from([0, 1, 2, 3, 254, 255]);
  const ack = await ask(s, "hub:echo", { blob, note: "bytes" });
  assert.equal(ack.ok, true);
  assert.ok(Buffer.isBuffer(ack.data.blob), "the bytes come back as binary");
  assert.deepEqual([...ack.data.blob], [...blob]);
  assert.equal(ack.data.note, "bytes");
  s.disconnect();
});

test("room joins: authorized, refused, invalid", async () => {
  const s = await connect(client(url, { transports: ["websocket"], auth: { token: user.token } }));
  const cases = [
    [{ room: mine.room }, null],
    [{ room: theirs.room }, "not_found"], // another pair's conversation: as if it did not exist
    [{ room: "conversation:00000000-0000-7000-8000-000000000000" }, "not_found"],
    [{ room: "conversation:not-a-uuid" }, "not_found"],
    [{ room: "topic:123" }, "not_found"], // no such topic (the forum checks topic rooms)
    [{ room: "user:someone-else" }, "forbidden"],
    [{ room: "conversation:bad id" }, "validation_failed"],
    [{ room: 5 }, "invalid_request"],
    [mine.room, "invalid_request"],
  ];
  for (const [payload, code] of cases) {
    const ack = await ask(s, "room:join", payload);
    if (code === null) assert.deepEqual(ack, { ok: true, data: { room: payload.room } });
    else {
      assert.equal(ack.ok, false, JSON.stringify(payload));
      assert.equal(ack.error.code, code, JSON.stringify(payload));
      assert.equal(typeof ack.error.message, "string");
    }
  }
  assert.deepEqual(await ask(s, "room:leave", { room: mine.room }), { ok: true, data: { room: mine.room } });
  const unknown = await ask(s, "made:up", {});
  assert.equal(unknown.error.code, "invalid_request");
  s.disconnect();
});

test("the user and organization rooms are joined on connect", async () => {
  const s = await connect(client(url, { transports: ["websocket"], auth: { token: user.token } }));
  const toUser = next(s, "notification:new");
  await control("/emit", { room: `user:${user.userId}`, event: "notification:new", payload: { id: "n1" } });
  assert.deepEqual(await toUser, { id: "n1" });
  const toOrg = next(s, "org:updated");
  await control("/emit", { room: `org:${user.organizationId}`, event: "org:updated", payload: { name: "x" } });
  assert.deepEqual(await toOrg, { name: "x" });
  s.disconnect();
});
