#!/usr/bin/env node
// Runs every compiled test file (unit tests beside the code, e2e scenarios under e2e/) with node's
// test runner. Files are found here rather than by a shell glob so the command works the same in
// every shell and on Node 20, whose --test flag does not expand globs.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['packages', 'e2e'];
/** @param {string} dir @param {string[]} out */
function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js') && p.split('/').includes('dist')) out.push(p);
  }
  return out;
}
const only = process.argv.slice(2);
let files = roots.flatMap((r) => walk(r, []));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
files.sort();
if (!files.length) {
  console.error('no test files found (did the build run?)');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
