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
// ALLOWLIST (test/conformance/socket.io-known-races.txt) names the tests that the suite can fail
// against any server, the reference included, one a line: "full title || regex". A listed test is
// allowed to fail only with a message the regex matches (the way its race fails); any other failure
// of it still counts.
import { readFileSync } from "node:fs";

// title → the regex of the failure messages its race produces
const readAllowlist = (file) =>
  new Map(
    (file ? readFileSync(file, "utf8").split("\n") : [])
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => {
        const at = l.lastIndexOf(" || ");
        if (at < 0) throw new Error(`${file}: no " || regex" in: ${l}`);
        return [l.slice(0, at), new RegExp(l.slice(at + 4))];
      })
  );

if (process.argv[2] === "--coverage") {
  const [allowFile, ...reports] = process.argv.slice(3);
  const runs = reports.map((r) => JSON.parse(readFileSync(r, "utf8")));
  for (const title of readAllowlist(allowFile).keys()) {
    const passed = runs.filter((r) => r.passes.some((t) => t.fullTitle === title)).length;
    console.log(`    ${passed ? "verified" : "NEVER VERIFIED"} in ${passed}/${runs.length} runs: ${title}`);
  }
  process.exit(0);
}

const [report, label, allowFile] = process.argv.slice(2);
const allowed = readAllowlist(allowFile);

const { stats, failures } = JSON.parse(readFileSync(report, "utf8"));
let unexpected = 0;
const lines = [];
for (const f of failures) {
  const msg = (f.err && f.err.message) || "(no message)";
  const known = allowed.has(f.fullTitle) && allowed.get(f.fullTitle).test(msg);
  if (!known) unexpected++;
  lines.push(`    ${known ? "known race" : "FAIL"}: ${f.fullTitle}\n        ${msg.split("\n")[0]}`);
}
console.log(
  `${label}: ${stats.passes} passing, ${stats.failures} failing` +
    (stats.failures ? ` (${stats.failures - unexpected} known race, ${unexpected} unexpected)` : "") +
    `, ${stats.duration} ms`
);
for (const l of lines) console.log(l);
process.exit(unexpected ? 1 : 0);
