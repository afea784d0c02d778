import { test } from 'node:test';
import assert from 'node:assert/strict';
import { versionsToRemove } from './retention.js';

const DAY = 86_400_000;

test('keep_dev_releases keeps the newest N dev releases by PEP 440 order, not by string or upload order', () => {
  // string order would put 1.0.dev9 above 1.0.dev10; upload order is shuffled on purpose
  const versions = ['1.0.dev10', '1.0.dev9', '1.0.dev2', '0.9', '1.0.dev11', '1.0.dev1'].map((version, i) => ({ version, uploaded: (7 - i) * DAY }));
  const removed = versionsToRemove(versions, { keep_dev_releases: 2 }, 10 * DAY);
  assert.deepEqual(removed.map((r) => r.version), ['1.0.dev9', '1.0.dev2', '1.0.dev1']);
  assert.match(removed[0]!.reason, /newest 2 dev releases/);
});

test('finals and post releases are never removed; pre-releases are counted apart from dev releases', () => {
  const versions = ['1.0', '1.0.post1', '2.0a1', '2.0b1', '2.0rc1', '2.0rc1.dev3', 'not-a-version'].map((version) => ({ version, uploaded: 1 }));
  const removed = versionsToRemove(versions, { keep_dev_releases: 0, keep_pre_releases: 1 }, 10 * DAY);
  assert.deepEqual(removed.map((r) => r.version).sort(), ['2.0a1', '2.0b1', '2.0rc1.dev3']);
});

test('max_age_days removes old dev and pre-releases only, and never one whose upload time is unknown', () => {
  const now = 100 * DAY;
  const versions = [
    { version: '1.0', uploaded: 1 },
    { version: '1.1.dev1', uploaded: now - 31 * DAY },
    { version: '1.1.dev2', uploaded: now - 29 * DAY },
    { version: '1.1rc1', uploaded: now - 40 * DAY },
    { version: '1.1.dev0', uploaded: 0 },
  ];
  assert.deepEqual(versionsToRemove(versions, { max_age_days: 30 }, now).map((r) => r.version), ['1.1rc1', '1.1.dev1']);
  assert.deepEqual(versionsToRemove(versions, {}, now), []);
});
