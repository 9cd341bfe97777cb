// Reads one mocha JSON report (--reporter json --reporter-option output=FILE) of an official protocol
// suite and prints the run's counts and each failure with mocha's message. Exit status: 0 when every
// failure is allowed, 1 otherwise.
//
// usage: node summarize.mjs REPORT.json LABEL [ALLOWLIST]
//        node summarize.mjs --coverage ALLOWLIST REPORT.json...
//
// --coverage says, for each allowlisted test, in how many of the runs it passed, i.e. how often the
// suite really checked what that test checks. It never fails the build (a test can lose the race in
// every one of three runs by chance), but a test that never passed was never verified.
//
// ALLOWLIST (test/conformance/socket.io-known-races.txt) names, one full title a line, the tests that
// the suite's own client can fail against any server (see that file). Such a test is allowed to fail
// only the way that race fails: the frame it waited for was dropped, so it either received the next
// frame, a ping ("expected '2' to ..."), or nothing more before the connection closed (mocha's
// timeout). Any other failure of a listed test still counts.
import { readFileSync } from "node:fs";

const readAllowlist = (file) =>
  new Set(
    file
      ? readFileSync(file, "utf8")
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith("#"))
      : []
  );

if (process.argv[2] === "--coverage") {
  const [allowFile, ...reports] = process.argv.slice(3);
  const runs = reports.map((r) => JSON.parse(readFileSync(r, "utf8")));
  for (const title of readAllowlist(allowFile)) {
    const passed = runs.filter((r) => r.passes.some((t) => t.fullTitle === title)).length;
    console.log(`    ${passed ? "verified" : "NEVER VERIFIED"} in ${passed}/${runs.length} runs: ${title}`);
  }
  process.exit(0);
}

const [report, label, allowFile] = process.argv.slice(2);
const allowed = readAllowlist(allowFile);
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
