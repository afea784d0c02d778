import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TailState } from '@wheelhouse/replication';
import { replicaLagSeconds, replicaLagSerials, replicaReadiness, replicaStatus } from './replica-status.js';

const synced: TailState = { masterUuid: 'm1', masterSerial: 10, lastContact: 1_000, inSyncAt: 1_000, initialSyncDone: true, applied: 11 };
const policy = { maxLagSerials: 5, following: false };

describe('replica lag', () => {
  it('is the master serial minus the head, never negative, 0 once superseded', () => {
    assert.equal(replicaLagSerials(synced, 10), 0);
    assert.equal(replicaLagSerials(synced, 4), 6);
    assert.equal(replicaLagSerials({ masterSerial: -1 }, 3), 0);
    assert.equal(replicaLagSerials({ ...synced, superseded: 'm2' }, 0), 0);
  });

  it('in seconds: null when never in sync, 0 in sync, rounded seconds since the last sync otherwise', () => {
    assert.equal(replicaLagSeconds(0, 3, 99_000), null);
    assert.equal(replicaLagSeconds(1_000, 0, 99_000), 0);
    assert.equal(replicaLagSeconds(1_000, 2, 3_600), 3);
  });
});

describe('replica readiness', () => {
  it('ready once the initial sync is done and the lag is within the bound', () => {
    assert.deepEqual(replicaReadiness(synced, 0, policy), { ready: true });
    assert.deepEqual(replicaReadiness(synced, 5, policy), { ready: true });
    assert.deepEqual(replicaReadiness(synced, 6, policy), { ready: false, reason: '6 serials behind the master (bound 5)' });
  });

  it('not ready before the initial sync, nor when replication stopped for good', () => {
    assert.deepEqual(replicaReadiness({ ...synced, initialSyncDone: false }, 0, policy), { ready: false, reason: 'initial sync with the master not done yet' });
    const fatal = { ...synced, fatal: 'the master UUID changed' };
    assert.deepEqual(replicaReadiness(fatal, 0, { ...policy, following: true }), { ready: false, reason: 'the master UUID changed' });
  });

  it('a superseded tailer stays ready only when following new masters', () => {
    const superseded = { ...synced, initialSyncDone: false, superseded: 'm2' };
    assert.deepEqual(replicaReadiness(superseded, 0, { ...policy, following: true }), { ready: true });
    assert.equal(replicaReadiness(superseded, 0, policy).ready, false);
  });
});

describe('replica status', () => {
  it('reports the replication figures with ISO times and nulls for what is absent', () => {
    const status = replicaStatus(
      {
        tail: { ...synced, masterSerial: 12, error: 'connect ECONNREFUSED' },
        files: { queued: 2, fetched: 7, failed: [{ sha256: 'ab'.repeat(32), error: 'master answered 404', attempts: 3, retryAt: 5_000 }] },
        uuid: 'r1',
        serial: 10,
        masterUrl: 'http://master:3141',
        replicaId: 'rid',
        startedAt: 0,
        rssBytes: 1234,
      },
      4_000,
    );
    assert.deepEqual(status, {
      role: 'REPLICA',
      uuid: 'r1',
      'master-uuid': 'm1',
      'master-url': 'http://master:3141',
      'replica-id': 'rid',
      serial: 10,
      'master-serial': 12,
      'lag-serials': 2,
      'lag-seconds': 3,
      'last-master-contact': '1970-01-01T00:00:01.000Z',
      'in-sync-at': '1970-01-01T00:00:01.000Z',
      'initial-sync-done': true,
      'replication-error': 'connect ECONNREFUSED',
      'replication-fatal': null,
      'superseded-by-master': null,
      'records-applied': 11,
      'files-queued': 2,
      'files-fetched': 7,
      'files-failed': [{ sha256: 'ab'.repeat(32), error: 'master answered 404', attempts: 3, retryAt: '1970-01-01T00:00:05.000Z' }],
      'generation-started-at': '1970-01-01T00:00:00.000Z',
      'memory-rss-bytes': 1234,
    });
  });

  it('never contacted: contact and sync times are null', () => {
    const status = replicaStatus(
      { tail: { masterUuid: '', masterSerial: -1, lastContact: 0, inSyncAt: 0, initialSyncDone: false, applied: 0 }, files: { queued: 0, fetched: 0, failed: [] }, uuid: 'r1', serial: -1, masterUrl: 'm', replicaId: 'r', startedAt: 0, rssBytes: 0 },
      1,
    );
    assert.equal(status['last-master-contact'], null);
    assert.equal(status['in-sync-at'], null);
    assert.equal(status['lag-seconds'], null);
    assert.equal(status['lag-serials'], 0);
  });
});
