// The moderators' queue live (issue 13): a moderator on one node joins moderation:use-cases; an
// author's submission over REST on another node reaches it as usecase:submitted, the claim as
// usecase:claimed and the decision as usecase:reviewed, in that order; the author hears the
// decision as a notification; a member who is not a moderator cannot join the room.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { config, signUp, control, client, connect, ask, next, closeAll, rest, websocket } from "./lib.mjs";

let cfg, mod, author, member, useCase;
before(async () => {
  cfg = await config();
  [mod, author, member] = await Promise.all([control("/moderator"), signUp(), signUp()]);
  useCase = JSON.parse(await readFile(new URL("../../domain/usecase/testdata/complete.json", import.meta.url), "utf8"));
});
after(closeAll);

// api calls the REST API on node 0 as user: { status, body }.
const api = (user, method, path, body) => rest(cfg.steady[0], user, method, path, body);

const ws = websocket;

test("a submission, its claim and its decision reach the moderators' room live, in order", async () => {
  const watching = await connect(client(cfg.steady[1], ws(mod)));
  const ack = await ask(watching, "room:join", { room: "moderation:use-cases" });
  assert.equal(ack.ok, true, JSON.stringify(ack));
  const outsider = await connect(client(cfg.steady[2], ws(member)));
  const refused = await ask(outsider, "room:join", { room: "moderation:use-cases" });
  assert.equal(refused.ok, false, "only moderators follow the queue");
  const authorSocket = await connect(client(cfg.steady[2], ws(author)));
  // A socket is in its user room once its first event is answered.
  assert.equal((await ask(authorSocket, "hub:echo", 1)).ok, true);

  // Every queue event, in arrival order (one room, one channel: the order they were sent).
  const heard = [];
  for (const name of ["usecase:submitted", "usecase:claimed", "usecase:reviewed"]) {
    watching.on(name, (e) => heard.push([name, e]));
  }

  let res = await api(author, "POST", "/api/v1/use-cases", useCase);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const id = res.body.id;
  const submitted = next(watching, "usecase:submitted", { pred: (e) => e.useCaseId === id });
  res = await api(author, "POST", `/api/v1/use-cases/${id}/submit`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const s = await submitted;
  assert.equal(s.authorId, author.userId);
  assert.equal(s.organizationId, author.organizationId);
  assert.equal(s.resubmitted, false);
  assert.equal(s.title, useCase.title);

  const claimed = next(watching, "usecase:claimed", { pred: (e) => e.useCaseId === id });
  res = await api(mod, "POST", `/api/v1/moderation/use-cases/${id}/claim`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const c = await claimed;
  assert.equal(c.reviewerId, mod.userId);
  assert.equal(c.status, "under_review");

  const reviewed = next(watching, "usecase:reviewed", { pred: (e) => e.useCaseId === id });
  // Notifications go through the event log, whose delivery waits for every older transaction of
  // the PostgreSQL server to end (platform/outbox): other packages' tests may hold one a while.
  const note = next(authorSocket, "notification:new", { ms: 45_000, pred: (n) => n.type === "use_case_reviewed" });
  res = await api(mod, "POST", `/api/v1/moderation/use-cases/${id}/decision`, { action: "publish" });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const r = await reviewed;
  assert.equal(r.action, "publish");
  assert.equal(r.status, "published");
  assert.equal(r.reviewerId, mod.userId);

  assert.deepEqual(heard.filter(([, e]) => e.useCaseId === id).map(([name]) => name),
    ["usecase:submitted", "usecase:claimed", "usecase:reviewed"]);
  const n = await note;
  assert.equal(n.targetId, id);
});
