import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadSettings, type SettingsSources } from './load-settings.js';
import { masterConfig } from './node-configs.js';
import { SettingsError } from './settings-error.js';
import type { Role } from './role-schemas.js';

const flags = (f: Record<string, unknown>, extra: Partial<SettingsSources> = {}): SettingsSources => ({ given: { flags: f, unknown: [] }, ...extra });

/** The problems loadSettings reports (fails the test when it accepts). */
function problemsOf(role: Role, sources: SettingsSources): readonly string[] {
  try {
    loadSettings(role, sources);
  } catch (err) {
    if (err instanceof SettingsError) {
      assert.equal(err.role, role);
      return err.problems;
    }
    throw err;
  }
  assert.fail(`${role} accepted ${JSON.stringify(sources)}`);
}

test('master: the defaults, given only --datadir', () => {
  assert.deepEqual(loadSettings('master', flags({ datadir: 'D' })), {
    datadir: 'D',
    host: '127.0.0.1',
    port: 3141,
    'max-file-bytes': 1024 ** 3,
    'sync-commits': true,
    offline: false,
    'restrict-user-creation': false,
    'sync-degrade': false,
    'log-level': 'info',
    etcd: [],
    'etcd-prefix': '/wheelhouse/default/',
    'etcd-lease-ttl': 5000,
  });
});

test('master: --sync-replicas, --sync-timeout (a duration) and --sync-degrade reach the master config; unset they stay absent', () => {
  const s = loadSettings('master', flags({ datadir: 'D', 'sync-replicas': '2', 'sync-timeout': '3s', 'sync-degrade': true }));
  const c = masterConfig(s, pino({ level: 'silent' }));
  assert.deepEqual([c.syncReplicas, c.syncTimeoutMs, c.syncDegrade], [2, 3_000, true]);
  const d = masterConfig(loadSettings('master', flags({ datadir: 'D' })), pino({ level: 'silent' }));
  assert.deepEqual([d.syncReplicas, d.syncTimeoutMs, d.syncDegrade], [undefined, undefined, undefined]);
  assert.throws(() => loadSettings('master', flags({ datadir: 'D', 'sync-replicas': '-1' })), /sync-replicas/);
});

test('master: --restrict-user-creation reaches the master config', () => {
  const s = loadSettings('master', flags({ datadir: 'D', 'restrict-user-creation': true }));
  assert.equal(s['restrict-user-creation'], true);
  assert.equal(masterConfig(s, pino({ level: 'silent' })).restrictUserCreation, true);
  assert.equal(masterConfig(loadSettings('master', flags({ datadir: 'D' })), pino({ level: 'silent' })).restrictUserCreation, undefined);
});

test("master: the README's and docker-compose's invocations", () => {
  const s = loadSettings('master', flags({ datadir: '/data', host: '0.0.0.0', port: '3142', 'secret-file': '/run/secrets/s', 'outside-url': 'http://localhost:3141', offline: true }));
  assert.equal(s.port, 3142);
  assert.equal(s['secret-file'], '/run/secrets/s');
  assert.equal(s['outside-url'], 'http://localhost:3141');
  assert.equal(s.offline, true);
  const t = loadSettings('master', flags({ datadir: 'D', 'max-file-bytes': '2GiB', 'sync-commits': false, 'mirror-timeout': '10s', 'log-level': 'warn' }));
  assert.equal(t['max-file-bytes'], 2 * 1024 ** 3);
  assert.equal(t['sync-commits'], false);
  assert.equal(t['mirror-timeout'], 10_000);
});

test('replica: the defaults, and the docker-compose invocation with --follow-new-master', () => {
  assert.deepEqual(loadSettings('replica', flags({ datadir: 'R', 'master-url': 'http://m:3142', 'secret-file': 'S' })), {
    datadir: 'R',
    host: '127.0.0.1',
    port: 3142,
    'master-url': 'http://m:3142',
    'secret-file': 'S',
    'follow-new-master': false,
    'log-level': 'info',
    etcd: [],
    'etcd-prefix': '/wheelhouse/default/',
    'etcd-lease-ttl': 5000,
  });
  const s = loadSettings(
    'replica',
    flags({ datadir: '/data', host: '0.0.0.0', port: '3143', 'master-url': 'http://hosta-master:3142', 'secret-file': 'S', 'outside-url': 'http://localhost:3141', 'follow-new-master': true, 'max-lag-serials': '5', 'write-wait': '1s' }),
  );
  assert.equal(s['follow-new-master'], true);
  assert.equal(s['max-lag-serials'], 5);
  assert.equal(s['write-wait'], 1000);
});

test('replica: master-only flags are refused by name, with every other problem at once', () => {
  const problems = problemsOf('replica', {
    given: { flags: { datadir: 'R', 'max-file-bytes': '5', offline: true, 'sync-commits': false, port: '70000', 'master-url': 'ftp://m' }, unknown: ['--frobnicate', 'x', 'stray', '--also=1'] },
  });
  assert.deepEqual([...problems].sort(), [
    "--master-url must be an http(s) URL, not \"ftp://m\"",
    '--max-file-bytes does not apply to a replica',
    '--no-sync-commits does not apply to a replica',
    '--offline does not apply to a replica',
    '--port must be <= 65535, not 70000',
    '--secret-file is required',
    'unexpected argument \'stray\'',
    'unknown flag --also',
    'unknown flag --frobnicate',
  ]);
});

test('master: replica and proxy flags do not apply; datadir is required', () => {
  assert.deepEqual(problemsOf('master', flags({ 'master-url': 'http://m', replica: ['http://r'], 'follow-new-master': true })), [
    '--master-url does not apply to a master',
    '--replica does not apply to a master',
    '--follow-new-master does not apply to a master',
    '--datadir is required',
  ]);
});

test('types and ranges: ports, sizes, durations, URLs, log levels', () => {
  const master = (f: Record<string, unknown>) => problemsOf('master', flags({ datadir: 'D', ...f }));
  assert.deepEqual(master({ port: 'http' }), ["--port must be a whole number, not 'http'"]);
  assert.deepEqual(master({ port: '-1' }), ["--port must be a whole number, not '-1'"]);
  assert.deepEqual(master({ 'max-file-bytes': '0' }), ['--max-file-bytes must be >= 1, not 0']);
  assert.match(master({ 'max-file-bytes': 'huge' })[0]!, /^--max-file-bytes must be a size in bytes/);
  assert.match(master({ 'mirror-timeout': 'soon' })[0]!, /^--mirror-timeout must be a duration/);
  assert.deepEqual(master({ 'mirror-timeout': '0' }), ['--mirror-timeout must be >= 1, not 0']);
  assert.deepEqual(master({ 'outside-url': 'example.org' }), ['--outside-url must be an http(s) URL, not "example.org"']);
  assert.deepEqual(master({ 'outside-url': 'http://' }), ['--outside-url must be an http(s) URL, not "http://"']);
  assert.match(master({ 'log-level': 'loud' })[0]!, /^--log-level must be one of fatal, error, warn, info, debug, trace, silent/);
  assert.deepEqual(master({ datadir: '' }), ['--datadir must NOT have fewer than 1 characters, not ""']);
  assert.equal(loadSettings('master', flags({ datadir: 'D', port: '0' })).port, 0);
  assert.equal(loadSettings('master', flags({ datadir: 'D', port: '65535' })).port, 65535);
});

test('proxy: defaults, repeated --replica, and every bad URL listed', () => {
  assert.deepEqual(loadSettings('proxy', flags({ master: 'http://m:3142' })), { host: '127.0.0.1', port: 3141, master: 'http://m:3142', replica: [], etcd: [], 'etcd-prefix': '/wheelhouse/default/', 'log-level': 'info' });
  const s = loadSettings('proxy', flags({ master: 'http://hosta:3142', replica: ['http://hosta:3143', 'http://hostb:3143'], 'outside-url': 'http://pypi.internal:3141', 'read-your-writes-wait': '3s' }));
  assert.deepEqual(s.replica, ['http://hosta:3143', 'http://hostb:3143']);
  assert.equal(s['read-your-writes-wait'], 3000);
  assert.deepEqual(problemsOf('proxy', flags({ replica: ['http://ok:1', 'nope', 'file:///x'], datadir: 'D' })), [
    '--datadir does not apply to a proxy',
    '--master is required',
    '--replica "nope" must be an http(s) URL',
    '--replica "file:///x" must be an http(s) URL',
  ]);
});

test('cluster: defaults, and its port leaves room for master and replicas (port+1 … port+3)', () => {
  assert.deepEqual(loadSettings('cluster', flags({})), { datadir: '.wheelhouse', host: '127.0.0.1', port: 3141, failover: false });
  assert.equal(loadSettings('cluster', flags({ port: '65532', datadir: 'C' })).port, 65532);
  assert.deepEqual(problemsOf('cluster', flags({ port: '65533' })), ['--port must be <= 65532, not 65533']);
  assert.deepEqual(problemsOf('cluster', flags({ port: '0' })), ['--port must be >= 1, not 0']);
  assert.deepEqual(problemsOf('cluster', flags({ 'master-url': 'http://m', 'log-level': 'warn' })), ['--master-url does not apply to a cluster', '--log-level does not apply to a cluster']);
});

test('precedence: defaults < config file < environment < flags; the source is named in problems', () => {
  const readConfig = (path: string): string => {
    assert.equal(path, 'wh.json');
    return JSON.stringify({ datadir: 'from-file', port: 4000, 'max-file-bytes': '1MiB', 'log-level': 'debug' });
  };
  const env = { WHEELHOUSE_PORT: '5000', WHEELHOUSE_LOG_LEVEL: 'warn', WHEELHOUSE_MASTER_URL: 'http://ignored-by-a-master' };
  const s = loadSettings('master', { given: { flags: { 'log-level': 'error' }, config: 'wh.json', unknown: [] }, env, readConfig });
  assert.deepEqual([s.datadir, s.port, s['max-file-bytes'], s['log-level']], ['from-file', 5000, 1024 ** 2, 'error']);
  const viaEnv = loadSettings('master', { given: { flags: {}, unknown: [] }, env: { WHEELHOUSE_CONFIG: 'wh.json' }, readConfig });
  assert.equal(viaEnv.port, 4000);
  assert.deepEqual(problemsOf('master', flags({ datadir: 'D' }, { env: { WHEELHOUSE_PORT: '99999', WHEELHOUSE_OFFLINE: 'perhaps' } })), [
    '--offline (from WHEELHOUSE_OFFLINE) must be true or false, not \'perhaps\'',
    '--port (from WHEELHOUSE_PORT) must be <= 65535, not 99999',
  ]);
});

test('replica: WHEELHOUSE_FOLLOW_NEW_MASTER is the follow-new-master setting like every other WHEELHOUSE_* variable', () => {
  const base = { datadir: 'R', 'master-url': 'http://m', 'secret-file': 'S' };
  assert.equal(loadSettings('replica', flags(base, { env: { WHEELHOUSE_FOLLOW_NEW_MASTER: 'true' } }))['follow-new-master'], true);
  assert.equal(loadSettings('replica', flags(base, { env: { WHEELHOUSE_FOLLOW_NEW_MASTER: '0' } }))['follow-new-master'], false);
});

test('config file: unknown keys, keys of another role, wrong JSON types and unreadable files are reported', () => {
  const file = (text: string) => ({ given: { flags: { datadir: 'R', 'master-url': 'http://m', 'secret-file': 'S' }, config: 'c.json', unknown: [] }, readConfig: () => text });
  assert.deepEqual(problemsOf('replica', file(JSON.stringify({ 'max-file-bytes': 5, colour: 'blue', port: '80', 'follow-new-master': 'yes' }))), [
    'max-file-bytes (in config file c.json) does not apply to a replica',
    "unknown setting 'colour' in config file c.json",
  ]);
  assert.deepEqual(problemsOf('replica', file(JSON.stringify({ port: true }))), ['--port (from config file c.json) must be integer, not true']);
  assert.deepEqual(problemsOf('replica', file('[1]')), ['config file c.json must hold a JSON object']);
  assert.match(problemsOf('replica', file('{oops'))[0]!, /^cannot read config file c.json: /);
});

test('the message lists one problem a line', () => {
  const err = new SettingsError('replica', ['--max-file-bytes does not apply to a replica', '--port must be <= 65535, not 70000']);
  assert.equal(err.message, 'invalid settings:\n  - --max-file-bytes does not apply to a replica\n  - --port must be <= 65535, not 70000');
});

test('etcd settings: URL lists from flags or the environment, a prefix between slashes, a lease TTL of 2 s to 60 s', () => {
  const base = { datadir: 'D', 'master-url': 'http://m:1', 'secret-file': 'S' };
  const r = loadSettings('replica', { given: { flags: { ...base, etcd: ['http://e1:2379', 'http://e2:2379'] }, unknown: [] } });
  assert.deepEqual(r.etcd, ['http://e1:2379', 'http://e2:2379']);
  assert.equal(r['etcd-prefix'], '/wheelhouse/default/');
  assert.equal(r['etcd-lease-ttl'], 5_000);
  const fromEnv = loadSettings('proxy', { given: { flags: { master: 'http://m:1' }, unknown: [] }, env: { WHEELHOUSE_ETCD: 'http://e1:2379,http://e2:2379' } });
  assert.deepEqual(fromEnv.etcd, ['http://e1:2379', 'http://e2:2379']);
  assert.equal(loadSettings('master', flags({ datadir: 'D', 'etcd-lease-ttl': '8s' }))['etcd-lease-ttl'], 8_000);
  assert.deepEqual(problemsOf('master', flags({ datadir: 'D', 'etcd-lease-ttl': '1s' })), ['--etcd-lease-ttl must be >= 2000, not 1000']);
  assert.deepEqual(problemsOf('master', flags({ datadir: 'D', 'etcd-prefix': 'wheelhouse' })), ['--etcd-prefix must match ^/(\\S*/)?$, not "wheelhouse"']);
  assert.deepEqual(problemsOf('master', flags({ datadir: 'D', etcd: 'etcd:2379' })), ['--etcd "etcd:2379" must be an http(s) URL']);
});
