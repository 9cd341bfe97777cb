// Helpers of the socket.io-client suite. The Go driver (socketio_test.go) runs the servers and
// answers the control API at P2P_CONTROL_URL.
import { io } from "socket.io-client";

const CONTROL = process.env.P2P_CONTROL_URL;
if (!CONTROL) throw new Error("run through socketio_test.go (P2P_CONTROL_URL is unset)");

export async function control(path, body = {}) {
  const res = await fetch(CONTROL + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`control ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

export const config = () => control("/config");
// signUp makes a user with a confirmed address: { token, userId, organizationId }.
export const signUp = () => control("/signup");
// conversation starts a conversation as creator with others (a group when titled):
// { id, room }.
export const conversation = (creator, others, title) =>
  control("/conversation", { token: creator.token, userIds: others.map((u) => u.userId), ...(title ? { title } : {}) });

const open = new Set();

// client makes a socket that does not connect yet; every client is closed by closeAll.
export function client(url, opts = {}) {
  const socket = io(url, { forceNew: true, autoConnect: false, ...opts });
  open.add(socket);
  return socket;
}

export function closeAll() {
  for (const s of open) s.disconnect();
  open.clear();
}

// connect resolves once connected and rejects with the connect_error.
export function connect(socket, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("connect timed out")), ms);
    socket.once("connect", () => { clearTimeout(timer); socket.off("connect_error"); resolve(socket); });
    socket.once("connect_error", (err) => { clearTimeout(timer); reject(err); });
    socket.connect();
  });
}

// next resolves with the first argument of the next event, optionally the first matching pred.
export function next(socket, event, { ms = 10_000, pred = () => true } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off(event, on); reject(new Error(`no ${event} within ${ms} ms`)); }, ms);
    function on(...args) {
      if (!pred(...args)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(args[0]);
    }
    socket.on(event, on);
  });
}

// ask emits with an acknowledgement and resolves with the ack object.
export function ask(socket, event, ...args) {
  return socket.timeout(5_000).emitWithAck(event, ...args);
}

// never resolves true if event does not arrive within ms (used only to prove an absence after a
// later event has already arrived, so it adds no waiting on the happy path).
export function absent(socket, event) {
  let seen = false;
  const on = () => { seen = true; };
  socket.on(event, on);
  return () => { socket.off(event, on); return !seen; };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// rest calls the REST API at base (a node's URL) as user: { status, body }.
export async function rest(base, user, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${user.token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// websocket is the options of user's socket on the websocket transport alone.
export const websocket = (user) => ({ transports: ["websocket"], auth: { token: user.token } });
