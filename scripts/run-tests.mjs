#!/usr/bin/env node
// Runs every compiled test file (unit tests beside the code, the testing workspace's own tests, e2e
// scenarios under e2e/) with node's test runner. Files are found here rather than by a shell glob
// so the command works the same in every shell and on Node 20, whose --test flag does not expand
// globs. Test files run two at a time (--test-concurrency=2; e2e files each use their own temp
// directories and free ports). Output: node's spec reporter for people, then a summary of every
// skipped (and todo) test with its reason, read from testing's skip reporter; the exit status is
// the test runner's (non-zero when a test failed), or 1 when the summary is missing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const roots = ['packages', 'testing', 'e2e'];
const reporter = join(repoRoot, 'testing', 'dist', 'skip-reporter.js');

/** @param {string} dir @param {string[]} out */
function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js') && p.split('/').includes('dist')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
let files = roots.flatMap((r) => walk(join(repoRoot, r), []).map((f) => relative(process.cwd(), f)));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
files.sort();
if (!files.length) {
  console.error('no test files found (did the build run?)');
  process.exit(1);
}
if (!existsSync(reporter)) {
  console.error(`${reporter} is missing (did the build run?)`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'wh-test-run-'));
const outcomesFile = join(work, 'outcomes.jsonl');
const r = spawnSync(
  process.execPath,
  [
    '--test', '--test-concurrency=2',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    `--test-reporter=${reporter}`, `--test-reporter-destination=${outcomesFile}`,
    ...files,
  ],
  { stdio: 'inherit' },
);
const status = r.status ?? 1;
if (r.signal) console.error(`test runner ended by ${r.signal}`);

/** @type {Array<{ outcome: string, name: string, file?: string, reason: string }>} */
let outcomes = [];
try {
  outcomes = readFileSync(outcomesFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
} catch (err) {
  console.error(`no test outcomes recorded (${err instanceof Error ? err.message : String(err)})`);
  rmSync(work, { recursive: true, force: true });
  process.exit(status === 0 ? 1 : status);
}
rmSync(work, { recursive: true, force: true });

const count = (o) => outcomes.filter((x) => x.outcome === o).length;
const listed = outcomes.filter((x) => x.outcome === 'skip' || x.outcome === 'todo');
const lines = ['', `tests: ${outcomes.length} — ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped, ${count('todo')} todo`];
if (listed.length) {
  lines.push('skipped / todo:');
  for (const x of listed) {
    const where = x.file ? relative(repoRoot, x.file) : '?';
    lines.push(`  ${x.outcome === 'todo' ? 'todo' : 'skip'}  ${where} › ${x.name}${x.reason ? ` — ${x.reason}` : ''}`);
  }
}
console.log(lines.join('\n'));
process.exit(status);
