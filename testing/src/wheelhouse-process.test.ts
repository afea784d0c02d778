import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, sharedDataDir, wheelhouseBin } from './repo-paths.js';
import { WheelhouseProcess } from './wheelhouse-process.js';

test('the repository root and the CLI are found from this module\'s location', () => {
  assert.ok(existsSync(join(repoRoot, 'testing', 'package.json')), repoRoot);
  if (!process.env['WHEELHOUSE_BIN']) assert.equal(wheelhouseBin, join(repoRoot, 'bin', 'wheelhouse'));
  assert.equal(sharedDataDir, join(repoRoot, '..', 'shared', 'data'));
});

test('command line: role, datadir, host, port, log level, then the extra arguments; netns prefixes `ip netns exec`', () => {
  const replica = new WheelhouseProcess({ name: 'r', role: 'replica', datadir: '/d', logPath: '/l', port: 4000, args: ['--master-url', 'http://m'] });
  assert.deepEqual(replica.commandLine(), [process.execPath, [wheelhouseBin, 'replica', '--datadir', '/d', '--host', '127.0.0.1', '--port', '4000', '--log-level', 'warn', '--master-url', 'http://m']]);
  assert.equal(replica.url, 'http://127.0.0.1:4000');
  assert.equal(replica.secretFile, '/d/secret');
  const proxy = new WheelhouseProcess({ name: 'p', role: 'proxy', logPath: '/l', host: '10.0.0.1', port: 80, netns: 'hostA', logLevel: 'info' });
  assert.deepEqual(proxy.commandLine(), ['ip', ['netns', 'exec', 'hostA', process.execPath, wheelhouseBin, 'proxy', '--host', '10.0.0.1', '--port', '80', '--log-level', 'info']]);
  assert.throws(() => proxy.datadir, /no data directory/);
  assert.equal(proxy.running, false);
  assert.equal(proxy.pid, undefined);
  assert.equal(proxy.rssBytes(), undefined);
});
