// Exports over the hub: an export's progress reaches the requester's sockets as export:progress
// {id, percent, status}, in order, ending at 100 and ready; the export_ready notification
// follows. Uses node 0 only (cluster.test.mjs, running alongside, kills nodes 1 and 2).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { config, signUp, client, connect, ask, next, closeAll } from "./lib.mjs";

let cfg, admin;
before(async () => {
  cfg = await config();
  admin = await signUp();
});
after(closeAll);

test("an export's progress arrives in order and ends ready", async () => {
  const node = cfg.nodes[0];
  const socket = await connect(client(node, { transports: ["websocket"], auth: { token: admin.token } }));
  assert.equal((await ask(socket, "hub:echo", 1)).ok, true); // in the user room from here on

  const seen = [];
  let id;
  const done = new Promise((resolve) => {
    socket.on("export:progress", (p) => {
      seen.push(p);
      if (p.id === id && (p.status === "ready" || p.status === "failed")) resolve();
    });
  });
  const note = next(socket, "notification:new", { ms: 60_000, pred: (n) => n.type === "export_ready" });

  const res = await fetch(`${node}/api/v1/exports`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
    body: JSON.stringify({ kind: "members-xlsx" }),
  });
  assert.equal(res.status, 202);
  id = (await res.json()).id;
  if (seen.some((p) => p.id === id && p.status === "ready")) {
    // ready before the answer was read: nothing more to wait for
  } else {
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error("no ready progress within 60 s")), 60_000))]);
  }

  const mine = seen.filter((p) => p.id === id);
  assert.ok(mine.length >= 2, `a start and an end: ${JSON.stringify(mine)}`);
  assert.deepEqual(Object.keys(mine[0]).sort(), ["id", "percent", "status"]);
  assert.deepEqual(mine[0], { id, percent: 0, status: "running" });
  for (let i = 1; i < mine.length; i++) {
    assert.ok(mine[i].percent > mine[i - 1].percent, `in order: ${JSON.stringify(mine)}`);
  }
  assert.deepEqual(mine.at(-1), { id, percent: 100, status: "ready" });

  const n = await note;
  assert.equal(n.targetType, "export");
  assert.equal(n.targetId, id);
  assert.equal(n.actor, null);
});
