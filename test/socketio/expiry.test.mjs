// An expired access token is refused with token_expired, so the client refreshes and reconnects.
// The node of this file issues tokens that live one minute; the test waits for one to expire.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { config, client, connect, closeAll, sleep } from "./lib.mjs";

after(closeAll);

test("refused: an expired token", { timeout: 120_000 }, async () => {
  const { expiry } = await config();
  const fresh = await connect(client(expiry.url, { transports: ["websocket"], auth: { token: expiry.user.token } }));
  fresh.disconnect();
  // Expiry is the clock itself here: nothing to wait on but the token's lifetime.
  const wait = expiry.user.issuedAt + 62_000 - Date.now();
  if (wait > 0) await sleep(wait);
  const err = await connect(client(expiry.url, { transports: ["websocket"], auth: { token: expiry.user.token } })).then(() => null, (e) => e);
  assert.ok(err, "the expired token must be refused");
  assert.equal(err.data?.code, "token_expired", err.message);
});
