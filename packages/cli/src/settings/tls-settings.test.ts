import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadSettings, type SettingsSources } from './load-settings.js';
import { masterConfig, proxyConfig, replicaConfig } from './node-configs.js';
import { SettingsError } from './settings-error.js';

const flags = (f: Record<string, unknown>): SettingsSources => ({ given: { flags: f, unknown: [] } });
const silent = pino({ level: 'silent' });

function problems(role: 'master' | 'replica' | 'proxy', f: Record<string, unknown>): readonly string[] {
  try {
    loadSettings(role, flags(f));
  } catch (err) {
    if (err instanceof SettingsError) return err.problems;
    throw err;
  }
  return assert.fail(`${role} accepted ${JSON.stringify(f)}`);
}

test('TLS settings: certificate and key together, the redirect port only with them (each role)', () => {
  const base = { master: { datadir: 'D' }, replica: { datadir: 'R', 'master-url': 'https://m:3142', 'secret-file': 'S' }, proxy: { master: 'https://m:3142' } } as const;
  for (const role of ['master', 'replica', 'proxy'] as const) {
    assert.deepEqual(problems(role, { ...base[role], 'tls-cert': 'c.pem' }), ['--tls-cert needs --tls-key too']);
    assert.deepEqual(problems(role, { ...base[role], 'tls-key': 'k.pem' }), ['--tls-key needs --tls-cert too']);
    assert.deepEqual(problems(role, { ...base[role], 'http-redirect-port': '8080' }), ['--http-redirect-port needs --tls-cert too']);
    assert.match(problems(role, { ...base[role], 'tls-cert': 'c.pem', 'tls-key': 'k.pem', 'http-redirect-port': '70000' }).join(), /--http-redirect-port must be <= 65535/);
  }
  assert.deepEqual(problems('master', { datadir: 'D', 'tls-ca': 'ca.pem' }), ['--tls-ca does not apply to a master']);
});

test('TLS settings reach each role config; without them nothing changes', () => {
  const tls = { 'tls-cert': 'c.pem', 'tls-key': 'k.pem', 'http-redirect-port': '8080' };
  assert.deepEqual(masterConfig(loadSettings('master', flags({ datadir: 'D', ...tls })), silent).tls, { certFile: 'c.pem', keyFile: 'k.pem', redirectPort: 8080 });
  assert.deepEqual(masterConfig(loadSettings('master', flags({ datadir: 'D', ...tls, 'outside-url': 'https://pypi.example' })), silent).tls?.redirectBase, 'https://pypi.example');
  const r = replicaConfig(loadSettings('replica', flags({ datadir: 'R', 'master-url': 'https://m:3142', 'secret-file': 'S', 'tls-ca': 'ca.pem' })), silent);
  assert.equal(r.tlsCaFile, 'ca.pem');
  assert.equal(r.tls, undefined);
  const p = proxyConfig(loadSettings('proxy', flags({ master: 'https://m:3142', 'tls-cert': 'c.pem', 'tls-key': 'k.pem', 'tls-ca': 'ca.pem' })), silent);
  assert.deepEqual([p.tls, p.tlsCaFile], [{ certFile: 'c.pem', keyFile: 'k.pem' }, 'ca.pem']);
  assert.equal(masterConfig(loadSettings('master', flags({ datadir: 'D' })), silent).tls, undefined);
  assert.equal('tls' in proxyConfig(loadSettings('proxy', flags({ master: 'http://m' })), silent), false);
});
