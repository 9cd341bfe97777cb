// Reads one mocha JSON report (--reporter json --reporter-option output=FILE) of an official protocol
// suite and prints the run's counts and each failure with mocha's message. Exit status: 0 when every
// failure is allowed, 1 otherwise.
//
// usage: node summarize.mjs REPORT.json LABEL [ALLOWLIST]
//
// ALLOWLIST (test/conformance/socket.io-known-races.txt) names, one full title a line, the tests that
// the suite's own client can fail against any server (see that file). Such a test is allowed to fail
// only the way that race fails: the frame it waited for was dropped, so it either received the next
// frame, a ping ("expected '2' to ..."), or nothing more before the connection closed (mocha's
// timeout). Any other failure of a listed test still counts.
import { readFileSync } from "node:fs";

const [report, label, allowFile] = process.argv.slice(2);
const allowed = new Set(
  allowFile
    ? readFileSync(allowFile, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"))
    : []
);
const raceSignature = (msg) => /^expected '2' to /.test(msg) || /^Timeout of \d+ms exceeded/.test(msg);

const { stats, failures } = JSON.parse(readFileSync(report, "utf8"));
let unexpected = 0;
const lines = [];
for (const f of failures) {
  const msg = (f.err && f.err.message) || "(no message)";
  const known = allowed.has(f.fullTitle) && raceSignature(msg);
  if (!known) unexpected++;
  lines.push(`    ${known ? "known client race" : "FAIL"}: ${f.fullTitle}\n        ${msg.split("\n")[0]}`);
}
console.log(
  `${label}: ${stats.passes} passing, ${stats.failures} failing` +
    (stats.failures ? ` (${stats.failures - unexpected} known client race, ${unexpected} unexpected)` : "") +
    `, ${stats.duration} ms`
);
for (const l of lines) console.log(l);
process.exit(unexpected ? 1 : 0);
