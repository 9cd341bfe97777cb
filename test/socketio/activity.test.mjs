// The activity feed live (issue 15): a watcher of another organization on one node joins the
// platform room activity:platform; a scripted sequence over REST (a question, an answer by the
// watcher, the best answer, and a question by a member whose profile is private) reaches the
// watcher as activity:new in the order it happened, each entry in the REST feed's shape, never
// the private member's; the author hears their own entries in their user room on another node;
// the kind has no other room.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { config, signUp, client, connect, ask, next, closeAll, rest, websocket } from "./lib.mjs";

let cfg, author, watcher, hidden;
before(async () => {
  cfg = await config();
  [author, watcher, hidden] = await Promise.all([signUp(), signUp(), signUp()]);
  const res = await api(hidden, "PATCH", "/api/v1/me", { profileVisibility: "private" });
  assert.equal(res.status, 200, JSON.stringify(res.body));
});
after(closeAll);

// api calls the REST API on node 0 as user: { status, body }.
const api = (user, method, path, body) => rest(cfg.steady[0], user, method, path, body);

const ws = websocket;

test("a scripted sequence reaches the platform room in order, without the private member's", async () => {
  const watching = await connect(client(cfg.steady[1], ws(watcher)));
  const own = await connect(client(cfg.steady[2], ws(author)));
  const ack = await ask(watching, "room:join", { room: "activity:platform" });
  assert.equal(ack.ok, true, JSON.stringify(ack));
  const refused = await ask(watching, "room:join", { room: "activity:organization" });
  assert.equal(refused.ok, false, "the platform room is the kind's only room");

  // Everything the watcher hears, once per entry (their own room repeats entries about them).
  const heard = new Map();
  watching.on("activity:new", (e) => { if (e.kind !== "member_joined") heard.set(e.id, e); });

  // The private member asks first: the leader node publishes entries to the platform room in log
  // order on one channel, so had theirs leaked it would arrive before the author's question.
  let res = await api(hidden, "POST", "/api/v1/forum/topics", {
    title: `A private member asks ${randomUUID()}`, content: "Nobody but me should see this in a feed.", category: "general", kind: "question",
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const title = `Torque audit intervals ${randomUUID()}`;
  const ownQuestion = next(own, "activity:new", { pred: (e) => e.content === title });
  res = await api(author, "POST", "/api/v1/forum/topics", {
    title, content: "How often do you audit torque on the final line?", category: "quality-management", kind: "question",
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const topic = res.body.id;
  res = await api(watcher, "POST", `/api/v1/forum/topics/${topic}/replies`, { content: "Every shift, with logged wrenches." });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const reply = res.body.id;
  res = await api(author, "PUT", `/api/v1/forum/topics/${topic}/best-answer`, { replyId: reply });
  assert.equal(res.status, 200, JSON.stringify(res.body));

  const mine = await ownQuestion;
  assert.equal(mine.kind, "question_asked");
  assert.equal(mine.userId, author.userId);

  // The watcher hears the answer and the best answer in their own room (the hub's fan-out
  // channel) and the question only in the platform room (the adapter's channel): two Redis
  // subscriptions, so they may arrive in either order. Wait for all three; clients sort by id.
  const about = () => [...heard.values()].filter((e) => e.targetId === topic).length;
  const deadline = Date.now() + 15_000;
  while (about() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // The platform room also carries what other files' users do meanwhile: look at this topic's
  // entries, and at none of the private member's.
  assert.ok(![...heard.values()].some((e) => e.userId === hidden.userId), "nothing of the private member's");
  const entries = [...heard.values()].filter((e) => e.targetId === topic).sort((a, b) => Number(a.id) - Number(b.id));
  assert.deepEqual(entries.map((e) => `${e.kind} ${e.content}`), [
    `question_asked ${title}`, `answer_posted ${title}`, `best_answer ${title}`,
  ]);
  for (const e of entries) {
    assert.notEqual(e.userId, hidden.userId);
    assert.equal(e.category, "Quality Management");
    assert.equal(e.targetType, "forum_topic");
    assert.ok(typeof e.time === "string" && !Number.isNaN(Date.parse(e.time)));
  }
  assert.deepEqual(entries.map((e) => e.type), ["question", "answer", "answer"]);
  assert.equal(entries[2].link, `/forum/topics/${topic}#reply-${reply}`);

  // The REST feed says the same, newest first.
  res = await api(watcher, "GET", "/api/v1/activity?scope=platform&limit=100");
  assert.equal(res.status, 200);
  const listed = res.body.items.filter((e) => e.targetId === topic).map((e) => e.id);
  assert.deepEqual(listed, entries.map((e) => e.id).reverse());
});
