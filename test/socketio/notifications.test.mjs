// Notifications over the hub: what notifies a user reaches every socket of theirs as
// notification:new and notification:count; reading over REST pushes the new count to all.
// Everything here uses node 0: cluster.test.mjs, running alongside, kills and restarts nodes 1
// and 2 (delivery across nodes is proven there, for every room).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { config, control, signUp, client, connect, ask, next, closeAll } from "./lib.mjs";

let cfg, admin;
before(async () => {
  cfg = await config();
  admin = await signUp();
});
after(closeAll);

test("an accepted invitation reaches every tab of the inviter; reading pushes the count", async () => {
  const node = cfg.nodes[0];
  const tabs = [
    await connect(client(node, { transports: ["websocket"], auth: { token: admin.token } })),
    await connect(client(node, { auth: { token: admin.token } })), // long-polling first
  ];
  // A socket is in its user room once its first event is answered.
  for (const s of tabs) assert.equal((await ask(s, "hub:echo", 1)).ok, true);
  const news = tabs.map((s) => next(s, "notification:new"));
  const counts = tabs.map((s) => next(s, "notification:count"));

  const invitee = await control("/invite", { token: admin.token });
  const got = await Promise.all(news);
  for (const n of got) {
    assert.equal(n.type, "invitation_accepted");
    assert.equal(n.actor.id, invitee.userId);
    assert.equal(n.actor.firstName, "Ina");
    assert.equal(n.targetType, "user");
    assert.equal(n.targetId, invitee.userId);
    assert.equal(n.count, 1);
    assert.equal(n.readAt, null);
  }
  assert.equal(got[0].id, got[1].id);
  const first = await Promise.all(counts);
  for (const c of first) assert.equal(c.unread, 1);
  assert.ok(first[0].version >= 1);

  const zero = tabs.map((s) => next(s, "notification:count", { pred: (c) => c.unread === 0 }));
  const res = await fetch(`${node}/api/v1/notifications/${got[0].id}/read`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin.token}` },
  });
  assert.equal(res.status, 200);
  const answer = await res.json();
  assert.equal(answer.unread, 0);
  for (const c of await Promise.all(zero)) {
    assert.deepEqual(c, answer, "every tab gets the count the request answered");
    assert.ok(c.version > first[0].version, "a newer version");
  }
});
