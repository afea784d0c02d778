import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatusBody, statusVerdict } from './status-page.js';

const now = Date.parse('2030-01-01T12:00:00Z');
const replica = (over: Record<string, unknown>) => ({
  role: 'REPLICA',
  serial: 10,
  'master-serial': 10,
  'lag-serials': 0,
  'last-master-contact': '2030-01-01T11:59:58Z',
  'initial-sync-done': true,
  'replication-error': null,
  'replication-fatal': null,
  'files-queued': 0,
  'files-failed': [],
  ...over,
});

test('a replica in contact and in sync is healthy', () => {
  assert.deepEqual(statusVerdict(replica({}), now), { level: 'ok', problems: [] });
});

test('a replica that lost its master is unhealthy, and says so in words', () => {
  const v = statusVerdict(replica({ 'last-master-contact': '2030-01-01T11:55:00Z', 'replication-error': 'connect ECONNREFUSED 127.0.0.1:1' }), now);
  assert.equal(v.level, 'bad');
  assert.match(v.problems.join('\n'), /no contact with the master for 5 min/);
  assert.match(v.problems.join('\n'), /ECONNREFUSED/);
  const page = renderStatusBody(replica({ 'last-master-contact': '2030-01-01T11:55:00Z' }), now).value;
  assert.match(page, /class="banner bad"/);
  assert.match(page, /Unhealthy/);
});

test('lag and failed files need attention; a master flags replicas gone quiet', () => {
  assert.equal(statusVerdict(replica({ 'lag-serials': 3 }), now).level, 'warn');
  assert.equal(statusVerdict(replica({ 'files-failed': [{ sha256: 'x' }] }), now).level, 'warn');
  const master = { role: 'MASTER', serial: 5, replicas: [{ id: 'r1', url: 'http://r1', serial: 5, streaming: false, lastSeen: '2030-01-01T11:50:00Z', 'lag-serials': 0 }] };
  const v = statusVerdict(master, now);
  assert.equal(v.level, 'warn');
  assert.match(v.problems[0]!, /replica r1 last seen 10 min ago/);
  assert.match(renderStatusBody(master, now).value, /<td>r1<\/td>/);
});

test('status values are escaped', () => {
  const page = renderStatusBody(replica({ 'master-url': '<script>x</script>' }), now).value;
  assert.doesNotMatch(page, /<script>x/);
});

test('status page: epoch, leader and a fenced master (unhealthy, saying why)', () => {
  const fenced = { role: 'MASTER', serial: 9, epoch: 1, leader: null, replicas: [], fenced: { epoch: 1, supersededBy: 2, message: 'fenced: epoch 1 superseded by 2 (learned from peer)' } };
  assert.equal(statusVerdict(fenced).level, 'bad');
  assert.match(statusVerdict(fenced).problems.join(' '), /fenced: epoch 1 superseded by 2/);
  const page = String(renderStatusBody(fenced));
  assert.match(page, /<dt>Epoch<\/dt><dd>1<\/dd>/);
  assert.match(page, /badge bad">fenced/);
  const leading = String(renderStatusBody({ role: 'MASTER', serial: 3, epoch: 2, leader: 'http://m2', fenced: false, replicas: [] }));
  assert.match(leading, /<dt>Leader<\/dt><dd>http:\/\/m2<\/dd>/);
  assert.match(leading, /<dt>Fenced<\/dt><dd>no<\/dd>/);
  assert.equal(statusVerdict({ role: 'MASTER', serial: 3, epoch: 2, fenced: false, replicas: [] }).level, 'ok');
});
