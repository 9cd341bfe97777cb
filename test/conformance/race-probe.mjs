// Evidence for test/conformance/socket.io-known-races.txt: how often a server's CONNECT answer and the
// "auth" event that follows it reach the socket.io suite's client in one read, which is when the
// suite's waitFor() loses the second frame.
//
// The suite waits with socket.addEventListener("message", ..., { once: true }) and registers the next
// listener only after its await resumes, i.e. in a microtask. ws 8.5.0 (the suite's locked version)
// parses every frame of one TCP read in one synchronous loop and dispatches "message" for each, with
// no microtask checkpoint in between: a second frame in the same read is dispatched while nobody
// listens, and is gone. This probe uses the same ws, counts per connection whether the two frames came
// in one read, and whether any microtask could run between their two "message" events.
//
// usage (server on localhost:3000): node race-probe.mjs [CONNECTIONS]
import { WebSocket } from "./socket.io-protocol/node_modules/ws/wrapper.mjs";

const total = Number(process.argv[2] || 200);
const url = "ws://localhost:3000/socket.io/?EIO=4&transport=websocket";

function probe() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let reads = 0;
    const frames = []; // [data, read index, microtask ran since previous frame]
    let tick = 0;
    // Counted from "open" on: a listener added earlier would race ws for the bytes that came with
    // the upgrade response. The frames measured here come later, after the probe sends "40".
    ws.on("open", () => ws._socket.on("data", () => reads++));
    ws.on("message", (data) => {
      const text = data.toString();
      frames.push({ text, read: reads, tick });
      queueMicrotask(() => tick++);
      if (text === "0" || text.startsWith("0{")) ws.send("40");
      if (text.startsWith("42")) {
        ws.close();
        const [ack, auth] = frames.slice(-2);
        resolve({ sameRead: ack.read === auth.read, noMicrotask: ack.tick === auth.tick });
      }
    });
    ws.on("error", reject);
    setTimeout(() => reject(new Error("no auth frame within 2s")), 2000).unref();
  });
}

let sameRead = 0;
let noMicrotask = 0;
for (let i = 0; i < total; i++) {
  const r = await probe();
  if (r.sameRead) sameRead++;
  if (r.noMicrotask) noMicrotask++;
}
console.log(
  `${total} connections: CONNECT answer and "auth" in one read: ${sameRead}; ` +
    `no microtask between their "message" events (the suite's waitFor loses "auth"): ${noMicrotask}`
);
