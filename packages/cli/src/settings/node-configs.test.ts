import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadSettings } from './load-settings.js';
import { masterConfig, proxyConfig, replicaConfig } from './node-configs.js';

const logger = pino({ level: 'silent' });
const given = (flags: Record<string, unknown>) => ({ given: { flags, unknown: [] } });

test('master settings map onto MasterConfig; absent optional settings stay absent', () => {
  const { logger: l, ...rest } = masterConfig(loadSettings('master', given({ datadir: 'D' })), logger);
  assert.equal(l, logger);
  assert.deepEqual(rest, { datadir: 'D', host: '127.0.0.1', port: 3141, maxFileBytes: 1024 ** 3, syncCommits: true });
  const full = masterConfig(loadSettings('master', given({ datadir: 'D', offline: true, 'secret-file': 'S', 'outside-url': 'http://o', 'mirror-timeout': '2s', 'sync-commits': false })), logger);
  assert.deepEqual([full.offline, full.secretFile, full.outsideUrl, full.mirrorTimeoutMs, full.syncCommits], [true, 'S', 'http://o', 2000, false]);
});

test('replica settings map onto ReplicaConfig, follow-new-master included', () => {
  const { logger: _l, ...rest } = replicaConfig(
    loadSettings('replica', given({ datadir: 'R', 'master-url': 'http://m', 'secret-file': 'S', 'follow-new-master': true, 'max-lag-serials': '7', 'write-wait': '3s', 'outside-url': 'http://o' })),
    logger,
  );
  assert.deepEqual(rest, { datadir: 'R', host: '127.0.0.1', port: 3142, masterUrl: 'http://m', secretFile: 'S', followNewMaster: true, outsideUrl: 'http://o', maxLagSerials: 7, writeWaitMs: 3000 });
});

test('proxy settings map onto ProxyConfig', () => {
  const { logger: _l, ...rest } = proxyConfig(loadSettings('proxy', given({ master: 'http://m', replica: ['http://a', 'http://b'], 'read-your-writes-wait': '500ms' })), logger);
  assert.deepEqual(rest, { host: '127.0.0.1', port: 3141, master: 'http://m', replicas: ['http://a', 'http://b'], readYourWritesWaitMs: 500 });
});
