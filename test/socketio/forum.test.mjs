// The forum's live topic room across nodes: two viewers on two different nodes join
// topic:<id> of a topic created over REST; a reply posted over REST by a third user reaches both
// as post:new, a like on the topic as topic:updated, typing in the room reaches the other viewer
// and not the sender, and a topic that does not exist cannot be joined. The viewers use the
// steady nodes (outside the balancer) and REST goes to node 0, which nothing stops either:
// cluster.test.mjs, running alongside, kills and restarts nodes 1 and 2.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { config, signUp, client, connect, ask, next, closeAll, absent, rest, websocket } from "./lib.mjs";

let cfg, author, viewerA, viewerB, replier, topic, room;
before(async () => {
  cfg = await config();
  [author, viewerA, viewerB, replier] = await Promise.all([signUp(), signUp(), signUp(), signUp()]);
  const res = await api(author, "POST", "/api/v1/forum/topics", {
    title: "Live room across nodes", content: "Does a reply reach every viewer?", category: "general",
    kind: "question", tags: ["realtime"],
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  topic = res.body;
  room = `topic:${topic.id}`;
});
after(closeAll);

// api calls the REST API on node 0 as user: { status, body }.
const api = (user, method, path, body) => rest(cfg.steady[0], user, method, path, body);

const ws = websocket;

// viewers connects viewerA to steady node 1 and viewerB to steady node 2, both in the room.
async function viewers() {
  const a = await connect(client(cfg.steady[1], ws(viewerA)));
  const b = await connect(client(cfg.steady[2], ws(viewerB)));
  for (const s of [a, b]) {
    const ack = await ask(s, "room:join", { room });
    assert.deepEqual(ack.ok, true, JSON.stringify(ack));
  }
  return [a, b];
}

test("a reply posted over REST reaches viewers on two nodes as post:new", async () => {
  const [a, b] = await viewers();
  const content = `Yes, through Redis — ${randomUUID()}`;
  const got = [a, b].map((s) => next(s, "post:new", { pred: (p) => p?.reply?.content === content }));

  const res = await api(replier, "POST", `/api/v1/forum/topics/${topic.id}/replies`, { content });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const stored = res.body;
  assert.equal(stored.topicId, topic.id);
  assert.equal(stored.authorId, replier.userId);
  assert.equal(stored.isMine, true, "the REST answer is the poster's view");

  const pushed = await Promise.all(got);
  for (const p of pushed) {
    assert.deepEqual(Object.keys(p).sort(), ["reply", "topic"]);
    const r = p.reply;
    assert.equal(r.id, stored.id);
    assert.equal(r.topicId, topic.id);
    assert.equal(r.parentId, null);
    assert.equal(r.depth, stored.depth);
    assert.equal(r.content, content);
    assert.match(r.contentHtml, /Yes, through Redis/);
    assert.equal(r.authorId, replier.userId);
    assert.equal(r.likes, 0);
    assert.equal(r.isDeleted, false);
    assert.equal(r.isBestAnswer, false);
    assert.equal(r.isMine, false, "a push carries what every viewer sees");
    assert.equal(r.likedByMe, false);
    // Everything else is the stored reply as REST answered it.
    assert.deepEqual(r, { ...stored, isMine: false, likedByMe: false });
  }
  // The same push moves the topic's counter in every viewer's page (one push per reply).
  for (const p of pushed) {
    assert.equal(p.topic.id, topic.id);
    assert.equal(p.topic.replies, 1);
    assert.equal(p.topic.content, undefined, "the topic comes without its body");
    assert.equal(p.topic.contentHtml, undefined);
  }
  a.disconnect();
  b.disconnect();
});

test("a like on the topic reaches viewers on two nodes as topic:updated", async () => {
  const [a, b] = await viewers();
  const got = [a, b].map((s) => next(s, "topic:updated", { pred: (p) => p?.topic?.id === topic.id && p.topic.likes === 1 }));

  const res = await api(replier, "PUT", `/api/v1/forum/topics/${topic.id}/like`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body, { likes: 1, likedByMe: true });

  for (const p of await Promise.all(got)) {
    assert.deepEqual(Object.keys(p).sort(), ["deleted", "topic"]);
    assert.equal(p.deleted, false);
    const t = p.topic;
    assert.equal(t.id, topic.id);
    assert.equal(t.title, topic.title);
    assert.equal(t.kind, "question");
    assert.equal(t.categoryId, "general");
    assert.deepEqual(t.tags, ["realtime"]);
    assert.equal(t.authorId, author.userId);
    assert.equal(t.likes, 1);
    assert.equal(t.likedByMe, false, "not the liker's view: every viewer gets the same push");
    assert.equal(t.bookmarkedByMe, false);
    assert.equal(t.isMine, false);
    assert.equal(t.content, undefined, "no body in a push");
    assert.equal(t.contentHtml, undefined);
  }
  a.disconnect();
  b.disconnect();
});

test("typing in the topic room reaches the other viewer, not the sender", async () => {
  const [a, b] = await viewers();
  const own = absent(a, "typing:start");
  const got = next(b, "typing:start", { pred: (p) => p.userId === viewerA.userId });
  assert.equal((await ask(a, "typing:start", { room })).ok, true);
  assert.deepEqual(await got, { room, userId: viewerA.userId });

  const stopped = next(b, "typing:stop", { pred: (p) => p.userId === viewerA.userId });
  assert.equal((await ask(a, "typing:stop", { room })).ok, true);
  assert.deepEqual(await stopped, { room, userId: viewerA.userId, expired: false });
  // The stop came after the start, so an echo of the start to the sender would be here by now.
  assert.ok(own(), "the sender does not hear its own typing");
  a.disconnect();
  b.disconnect();
});

test("a topic that does not exist cannot be joined, nor typed in", async () => {
  const a = await connect(client(cfg.steady[1], ws(viewerA)));
  const missing = `topic:${randomUUID()}`;
  const ack = await ask(a, "room:join", { room: missing });
  assert.equal(ack.ok, false, JSON.stringify(ack));
  assert.equal(ack.error.code, "not_found");
  const malformed = await ask(a, "room:join", { room: "topic:not-an-id" });
  assert.equal(malformed.ok, false, JSON.stringify(malformed));
  assert.equal(malformed.error.code, "not_found");
  const typing = await ask(a, "typing:start", { room: missing });
  assert.equal(typing.ok, false);
  assert.equal(typing.error.code, "forbidden");
  a.disconnect();
});
