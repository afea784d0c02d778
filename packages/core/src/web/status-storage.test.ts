import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatusBody, statusVerdict } from './status-page.js';
import { STORAGE_INDEX_ROWS, renderStorageSection } from './status-storage.js';

const now = Date.parse('2030-01-01T12:00:00Z');
const gcLast = { serial: 42, storedFiles: 12, storedBytes: 9_000_000, candidates: 4, freedFiles: 4, freedBytes: 3_000_000, restored: 0, held: null, behind: [], expired: [], ms: 17 };
const master = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  role: 'MASTER',
  serial: 42,
  replicas: [],
  storage: { state: 'ok', failures: 0, recoveries: 0, 'file-store-failures': 0 },
  'disk-usage': {
    'store-bytes': 6_000_000,
    'store-files': 8,
    indexes: { 'ci/small': { files: 1, bytes: 1_000 }, 'ci/nightly': { files: 7, bytes: 5_999_000 } },
    gc: { last: gcLast, 'freed-files-total': 4, 'freed-bytes-total': 3_000_000, runs: 1, 'interval-ms': 600_000 },
  },
  ...over,
});

test('the status page shows the store size, the last collection and usage per index, largest first', () => {
  const page = renderStatusBody(master(), now).value;
  assert.match(page, /<h2 id="storage-h">Storage<\/h2>/);
  assert.match(page, /<span class="badge ok">ok<\/span>/);
  assert.match(page, /title="6000000 bytes">6\.0 MB<\/span> in 8 files/);
  assert.match(page, /freed 4 files \(3\.0 MB\) of 4 unnamed files at serial 42 in 17 ms; runs every 10 min and on demand/);
  assert.match(page, /Freed since start<\/dt><dd>4 files, 3\.0 MB in 1 run/);
  const nightly = page.indexOf('<td>ci/nightly</td>');
  const small = page.indexOf('<td>ci/small</td>');
  assert.ok(nightly > 0 && small > nightly, 'indexes are listed largest first');
  assert.match(page, /<td>ci\/nightly<\/td><td class="num">7<\/td><td class="num" title="5999000 bytes">6\.0 MB<\/td>/);
  assert.equal(statusVerdict(master(), now).level, 'ok');
});

test('a collection held back says by what; before the first run the store is "not measured yet"', () => {
  const held = master({ 'disk-usage': { 'store-bytes': null, 'store-files': null, gc: { last: { ...gcLast, freedFiles: 0, freedBytes: 0, held: 'followers-behind', behind: ['replica-7'] }, 'freed-files-total': 0, 'freed-bytes-total': 0, runs: 1, 'interval-ms': 0 } } });
  const page = renderStorageSection(held)!.value;
  assert.match(page, /held back by replicas not yet at that serial \(replica-7\); runs on demand only/);
  assert.match(page, /not measured yet/);
  // a replica's disk-usage has no per-index part: no table, no "no index" claim
  assert.doesNotMatch(page, /Disk usage per index|No index holds files/);
  const lease = renderStorageSection(master({ 'disk-usage': { gc: { last: { ...gcLast, held: 'lease', freedFiles: 0 }, runs: 1 }, indexes: {} } }))!.value;
  assert.match(lease, /held back by a running export or backup/);
  assert.match(lease, /No index holds files/);
  const never = renderStorageSection(master({ 'disk-usage': { gc: { last: null, runs: 0, 'interval-ms': 600_000 } } }))!.value;
  assert.match(never, /not run yet; runs every 10 min and on demand/);
});

test('failed storage makes the node unhealthy, in words', () => {
  const failed = master({ storage: { state: 'failed', failures: 1, recoveries: 0, message: 'no space left on the disk holding /srv/wh/db', 'file-store-failures': 0 } });
  const v = statusVerdict(failed, now);
  assert.equal(v.level, 'bad');
  assert.match(v.problems.join('\n'), /storage failed, writes are refused until the disk works again: no space left on the disk holding \/srv\/wh\/db/);
  assert.match(renderStatusBody(failed, now).value, /<span class="badge bad">failed<\/span>/);
});

test('many indexes: the largest are listed, the rest counted; names are escaped; no storage fields, no section', () => {
  const indexes: Record<string, { files: number; bytes: number }> = {};
  for (let i = 0; i < STORAGE_INDEX_ROWS + 5; i++) indexes[`u/i${i}`] = { files: 1, bytes: 1000 + i };
  indexes['u/<b>x</b>'] = { files: 1, bytes: 10_000_000 };
  const page = renderStorageSection(master({ 'disk-usage': { indexes } }))!.value;
  assert.match(page, /6 smaller indexes not shown/);
  assert.doesNotMatch(page, /<b>x<\/b>/);
  assert.doesNotMatch(page, /<td>u\/i0<\/td>/, 'the smallest is left out');
  assert.equal(renderStorageSection({ role: 'MASTER' }), null);
});
