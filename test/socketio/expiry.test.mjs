// Access tokens end: an expired token is refused with token_expired, so the client refreshes and
// reconnects; a socket whose token expires is ended with auth:expired unless the client handed it
// a fresh token with auth:refresh (docs/realtime.md "Access"). The node of this file issues
// tokens that live one minute; the test waits for one to expire.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { config, client, connect, closeAll, next, ask, sleep } from "./lib.mjs";

after(closeAll);

// refreshSession is what supertokens-web-js does in header mode: the refresh token to
// /auth/session/refresh, a new access token in the st-access-token header.
async function refreshSession(url, refreshToken) {
  const res = await fetch(url + "/auth/session/refresh", {
    method: "POST",
    headers: { authorization: "Bearer " + refreshToken, "st-auth-mode": "header", rid: "session" },
  });
  assert.equal(res.status, 200, await res.text());
  const token = res.headers.get("st-access-token");
  assert.ok(token, "the refresh hands out an access token");
  return token;
}

test("expiry: refused handshakes, ended sockets, refreshed sockets", { timeout: 120_000 }, async () => {
  const { expiry } = await config();
  const opts = { transports: ["websocket"], auth: { token: expiry.user.token } };
  const fresh = await connect(client(expiry.url, opts));
  fresh.disconnect();

  const held = await connect(client(expiry.url, opts));
  const refreshed = await connect(client(expiry.url, opts));
  const expired = next(held, "auth:expired", { ms: 90_000 });
  const gone = next(held, "disconnect", { ms: 90_000 });
  // Refreshed half-way through the old token's life, as a client scheduling it from the
  // front-token's expiry would: the new one outlives the old by half a minute.
  await sleep(Math.max(0, expiry.user.issuedAt + 30_000 - Date.now()));
  const token = await refreshSession(expiry.url, expiry.user.refreshToken);
  const ack = await ask(refreshed, "auth:refresh", { token });
  assert.equal(ack.ok, true, JSON.stringify(ack));
  assert.ok(Date.parse(ack.data.expiresAt) > expiry.user.issuedAt + 60_000, "the socket now lives as long as the new token");

  // Expiry is the clock itself here: nothing to wait on but the token's lifetime.
  const wait = expiry.user.issuedAt + 62_000 - Date.now();
  if (wait > 0) await sleep(wait);
  const err = await connect(client(expiry.url, opts)).then(() => null, (e) => e);
  assert.ok(err, "the expired token must be refused");
  assert.equal(err.data?.code, "token_expired", err.message);

  assert.equal((await expired).code, "token_expired", "the held socket is told why");
  assert.equal(await gone, "io server disconnect", "and ended by the server, so the client does not reconnect on its own");
  assert.equal(refreshed.connected, true);
  const echo = await ask(refreshed, "hub:echo", "still here");
  assert.deepEqual(echo, { ok: true, data: "still here" }, "the refreshed socket lives on");
});
