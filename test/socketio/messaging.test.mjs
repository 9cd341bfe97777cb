// Private messaging over the hub, with the users on different nodes: message:send and its ack,
// message:new to every other device (the sending socket has the ack), clientId retries, read and delivered receipts, unread counts on a
// second device, and a third user kept out. The nodes are the steady ones: cluster.test.mjs, running
// alongside, kills and restarts nodes 1 and 2 of the balancer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { config, signUp, conversation, client, connect, ask, next, closeAll, absent, websocket } from "./lib.mjs";

let cfg, amal, badr, carol, conv;
before(async () => {
  cfg = await config();
  [amal, badr, carol] = await Promise.all([signUp(), signUp(), signUp()]);
  conv = await conversation(amal, [badr]);
});
after(closeAll);

const ws = websocket;

test("two users chat while connected to different nodes; every other device gets the message", async () => {
  const a = await connect(client(cfg.steady[0], ws(amal)));
  const a2 = await connect(client(cfg.steady[2], ws(amal)));
  const b1 = await connect(client(cfg.steady[1], ws(badr)));
  const b2 = await connect(client(cfg.steady[2], ws(badr)));
  const isHello = { pred: (p) => p.message.clientId === "hello-1" };
  const got = [b1, b2, a2].map((s) => next(s, "message:new", isHello));
  let echoes = 0;
  a.on("message:new", (p) => { if (p.message.clientId === "hello-1") echoes++; });

  const ack = await ask(a, "message:send", { conversationId: conv.id, clientId: "hello-1", content: "Salam, Badr" });
  assert.equal(ack.ok, true, JSON.stringify(ack));
  assert.equal(ack.data.created, true);
  const stored = ack.data.message;
  assert.equal(stored.content, "Salam, Badr");
  assert.equal(stored.senderId, amal.userId);
  assert.ok(stored.seq >= 1);
  for (const p of await Promise.all(got)) assert.deepEqual(p.message, stored, "the sender's other devices too");

  // The answer goes the other way through another node.
  const back = next(a, "message:new", { pred: (p) => p.message.senderId === badr.userId });
  assert.equal((await ask(b2, "message:send", { conversationId: conv.id, clientId: "reply-1", content: "وعليكم السلام" })).ok, true);
  assert.equal((await back).message.content, "وعليكم السلام");
  // Badr's answer came after Amal's message, so a copy to her sending socket would be here by now.
  assert.equal(echoes, 0, "the sending socket has the message in its ack and gets no copy");
  for (const s of [a, a2, b1, b2]) s.disconnect();
});

test("a retry with the same clientId gives one message", async () => {
  const a = await connect(client(cfg.steady[0], ws(amal)));
  const b = await connect(client(cfg.steady[1], ws(badr)));
  const copies = [];
  b.on("message:new", (p) => { if (p.message.clientId === "retry-7") copies.push(p.message.id); });

  const first = await ask(a, "message:send", { conversationId: conv.id, clientId: "retry-7", content: "only once" });
  const second = await ask(a, "message:send", { conversationId: conv.id, clientId: "retry-7", content: "only once" });
  assert.equal(first.data.created, true);
  assert.equal(second.data.created, false, "the retry is recognised");
  assert.equal(second.data.message.id, first.data.message.id);

  // A later message proves the earlier events have all arrived.
  const marker = next(b, "message:new", { pred: (p) => p.message.clientId === "marker-7" });
  await ask(a, "message:send", { conversationId: conv.id, clientId: "marker-7", content: "marker" });
  await marker;
  assert.deepEqual(copies, [first.data.message.id], "delivered once");
  a.disconnect();
  b.disconnect();
});

test("read and delivered receipts, and unread counts on the reader's second device", async () => {
  const a = await connect(client(cfg.steady[0], ws(amal)));
  const b1 = await connect(client(cfg.steady[1], ws(badr)));
  const b2 = await connect(client(cfg.steady[2], ws(badr)));
  let last;
  for (let i = 1; i <= 3; i++) {
    const arrived = next(b1, "message:new", { pred: (p) => p.message.clientId === `r-${i}` });
    last = (await ask(a, "message:send", { conversationId: conv.id, clientId: `r-${i}`, content: `update ${i}` })).data.message;
    await arrived;
  }

  const delivered = next(a, "message:delivered", { pred: (r) => r.userId === badr.userId });
  const dack = await ask(b1, "message:delivered", { conversationId: conv.id, seq: last.seq });
  assert.equal(dack.ok, true, JSON.stringify(dack));
  assert.equal((await delivered).deliveredSeq, last.seq);

  const receipt = next(a, "message:read", { pred: (r) => r.userId === badr.userId });
  const counts = next(b2, "conversation:unread", { pred: (u) => u.conversationId === conv.id });
  const read = await ask(b1, "message:read", { conversationId: conv.id, seq: last.seq });
  assert.equal(read.ok, true, JSON.stringify(read));
  assert.equal(read.data.readSeq, last.seq);
  assert.equal((await receipt).readSeq, last.seq, "the sender sees the read receipt");
  const unread = await counts;
  assert.equal(unread.unreadCount, 0, "the other device learns the conversation is read");
  assert.equal(unread.totalUnread, 0);

  // Reading backwards changes nothing and sends nothing.
  const stale = await ask(b2, "message:read", { conversationId: conv.id, seq: 1 });
  assert.equal(stale.data.readSeq, last.seq);
  for (const s of [a, b1, b2]) s.disconnect();
});

test("a third user can neither join nor read nor write the pair's conversation", async () => {
  const c = await connect(client(cfg.steady[2], ws(carol)));
  for (const [event, payload] of [
    ["room:join", { room: conv.room }],
    ["message:send", { conversationId: conv.id, content: "let me in" }],
    ["message:read", { conversationId: conv.id, seq: 1 }],
    ["message:delivered", { conversationId: conv.id, seq: 1 }],
  ]) {
    const ack = await ask(c, event, payload);
    assert.equal(ack.ok, false, event);
    assert.equal(ack.error.code, "not_found", event);
  }
  c.disconnect();
});

test("bad payloads are refused with an error ack", async () => {
  const a = await connect(client(cfg.steady[0], ws(amal)));
  for (const [payload, code] of [
    [{ conversationId: conv.id, content: "" }, "validation_failed"],
    [{ conversationId: conv.id, content: "x".repeat(10_001) }, "validation_failed"],
    [{ conversationId: conv.id, content: "x", clientId: "no spaces allowed" }, "validation_failed"],
    [{ conversationId: conv.id, content: 5 }, "invalid_request"],
    [{ conversationId: conv.id, content: "x", priority: "high" }, "invalid_request"],
    ["just a string", "invalid_request"],
  ]) {
    const ack = await ask(a, "message:send", payload);
    assert.equal(ack.ok, false, JSON.stringify(payload).slice(0, 80));
    assert.equal(ack.error.code, code, JSON.stringify(payload).slice(0, 80));
  }
  const none = absent(a, "message:new");
  assert.equal((await ask(a, "hub:echo", null)).ok, true);
  assert.ok(none(), "nothing was stored or sent");
  a.disconnect();
});
