// Damaged dumps are refused (issue 5): devpi has produced incomplete exports that imported without a
// word (devpi #1007). `wheelhouse import` must verify a dump completely before it writes anything:
// for each kind of damage — a file's byte flipped, a file missing, a file grown, state.jsonl edited
// (with and without a matching state-sha256), the manifest missing or truncated, an unknown
// dump-format — it exits non-zero with a message naming the problem, and leaves no data directory
// (and no half-built one beside it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture, createIndex, createUser, twineUpload } from './harness.js';
import { TestRoot } from '@wheelhouse/testing';
import { buildLeftovers, dirEntries, readManifest, wheelhouseCli } from './dump-tools.js';

const ROOT_PASSWORD = 'root-damage-e2e';
const cluster = new TestRoot('dump-damage');
after(() => cluster.cleanup());

let good = '';
before(async () => {
  const m = await cluster.startMaster('source', ROOT_PASSWORD);
  await createUser(m.api.as({ user: 'root', password: ROOT_PASSWORD }), 'dana', 'dana-pw');
  await createIndex(m.api.as({ user: 'dana', password: 'dana-pw' }), 'dana/dev');
  const fx = await buildFixture();
  const up = await twineUpload({ repositoryUrl: `${m.url}/dana/dev/`, user: 'dana', password: 'dana-pw', files: [fx.sdist, fx.wheel] });
  if (up.code !== 0) throw new Error(up.describe());
  good = cluster.dir('dump-good');
  const exp = await wheelhouseCli(['export', '--datadir', m.datadir, good]);
  if (exp.code !== 0) throw new Error(exp.describe());
  await m.stop();
}, { timeout: 180_000 });

let n = 0;
/** A copy of the good dump, damaged by `damage`. */
function damaged(damage: (dir: string) => void): string {
  const dir = cluster.dir(`dump-bad-${++n}`);
  cpSync(good, dir, { recursive: true });
  damage(dir);
  return dir;
}

function someBlob(dir: string): string {
  const sorted = readdirSync(join(dir, 'files')).sort();
  // the largest file: a release file, not a tiny METADATA
  return sorted.map((f) => ({ f, size: readFileSync(join(dir, 'files', f)).length })).sort((a, b) => b.size - a.size)[0]!.f;
}

/** Imports `dump` into a new target (absent, or an empty directory); asserts the refusal. */
async function assertRefused(dump: string, message: RegExp, opts: { targetExists?: boolean } = {}): Promise<void> {
  const target = cluster.dir(`target-${n}`);
  if (opts.targetExists) mkdirSync(target);
  const r = await wheelhouseCli(['import', '--datadir', target, dump]);
  assert.notEqual(r.code, 0, `the damaged dump was imported:\n${r.describe()}`);
  assert.equal(r.timedOut, false, r.describe());
  assert.match(r.stderr, message, r.describe());
  const left = dirEntries(target);
  if (opts.targetExists) assert.deepEqual(left, [], `the target holds ${String(left)}`);
  else assert.equal(left, undefined, `the target was created: ${String(left)}`);
  assert.deepEqual(buildLeftovers(target), [], 'a half-built data directory was left beside the target');
}

test('control: the undamaged dump imports', { timeout: 60_000 }, cluster.guarded(async () => {
  const r = await wheelhouseCli(['import', '--datadir', cluster.dir('target-good'), good]);
  assert.equal(r.code, 0, r.describe());
  assert.ok((dirEntries(cluster.dir('target-good')) ?? []).includes('db'));
}));

test('a file with one byte flipped is refused, naming the file', { timeout: 60_000 }, cluster.guarded(async () => {
  let sha = '';
  const dump = damaged((dir) => {
    sha = someBlob(dir);
    const p = join(dir, 'files', sha);
    const b = readFileSync(p);
    const at = Math.floor(b.length / 2);
    b.writeUInt8(b.readUInt8(at) ^ 0x01, at);
    writeFileSync(p, b);
  });
  await assertRefused(dump, new RegExp(`${sha}.*corrupt|corrupt.*${sha}`));
}));

test('a missing file is refused, naming the file', { timeout: 60_000 }, cluster.guarded(async () => {
  let sha = '';
  const dump = damaged((dir) => {
    sha = someBlob(dir);
    rmSync(join(dir, 'files', sha));
  });
  await assertRefused(dump, new RegExp(`${sha}.*missing|missing.*${sha}`));
}));

test('a file with bytes appended is refused (size differs from the manifest)', { timeout: 60_000 }, cluster.guarded(async () => {
  let sha = '';
  const dump = damaged((dir) => {
    sha = someBlob(dir);
    appendFileSync(join(dir, 'files', sha), Buffer.from('x'));
  });
  await assertRefused(dump, new RegExp(`${sha}.*bytes`));
}));

test('an edited state.jsonl is refused (does not match the manifest), also into an existing empty directory', { timeout: 60_000 }, cluster.guarded(async () => {
  const dump = damaged((dir) => {
    const p = join(dir, 'state.jsonl');
    const text = readFileSync(p, 'utf8');
    assert.ok(text.includes('dana@example.invalid'));
    writeFileSync(p, text.replace('dana@example.invalid', 'mallory@example.invalid'));
  });
  await assertRefused(dump, /state\.jsonl.*(state-sha256|damaged|edited)/, { targetExists: true });
}));

test('state.jsonl with a line removed and state-sha256 rewritten to match is refused by the counts', { timeout: 60_000 }, cluster.guarded(async () => {
  const dump = damaged((dir) => {
    const p = join(dir, 'state.jsonl');
    const lines = readFileSync(p, 'utf8').split('\n').filter((l) => !l.startsWith('{"key":"user/dana"'));
    const text = lines.join('\n');
    writeFileSync(p, text);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    m['state-sha256'] = createHash('sha256').update(text).digest('hex');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
  });
  await assertRefused(dump, /counts.*users|users.*counts/);
}));

test('a dump without manifest.json (incomplete) is refused', { timeout: 60_000 }, cluster.guarded(async () => {
  const dump = damaged((dir) => rmSync(join(dir, 'manifest.json')));
  await assertRefused(dump, /manifest\.json/);
}));

test('a truncated manifest.json is refused', { timeout: 60_000 }, cluster.guarded(async () => {
  const dump = damaged((dir) => {
    const p = join(dir, 'manifest.json');
    const b = readFileSync(p);
    writeFileSync(p, b.subarray(0, Math.floor(b.length / 2)));
  });
  await assertRefused(dump, /manifest\.json/);
}));

test('a dump of an unknown dump-format is refused with a message naming both versions', { timeout: 60_000 }, cluster.guarded(async () => {
  assert.equal(readManifest(good)['dump-format'], 1);
  const dump = damaged((dir) => {
    const p = join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    m['dump-format'] = 2;
    writeFileSync(p, JSON.stringify(m));
  });
  await assertRefused(dump, /format 2.*format 1|format 1.*format 2/);
}));
