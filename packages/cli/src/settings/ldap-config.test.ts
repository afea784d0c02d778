import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadLdapConfig } from './ldap-config.js';
import { SettingsError } from './settings-error.js';

function reader(files: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT: no such file '${path}'`);
    return text;
  };
}

const minimal = { url: 'ldap://127.0.0.1:3389', 'user-search': { base: 'ou=people,dc=example,dc=org', filter: '(uid={username})' } };

test('a full LDAP config file becomes the directory config: password and CA read from files beside it, durations with units', () => {
  const file = {
    url: ['ldaps://ldap1.example.org:636', 'ldaps://ldap2.example.org'],
    'bind-dn': 'cn=wheelhouse,dc=example,dc=org',
    'bind-password-file': 'ldap-password',
    'user-search': { base: 'ou=people,dc=example,dc=org', filter: '(&(objectClass=person)(uid={username}))', scope: 'one' },
    'group-search': { base: 'ou=groups,dc=example,dc=org', filter: '(memberUid={username})', 'name-attribute': 'cn' },
    tls: { 'ca-file': '/etc/ssl/ldap-ca.pem', 'reject-unauthorized': true },
    timeout: '2s',
    'cache-time': 300000,
  };
  const config = loadLdapConfig('master', '/etc/wheelhouse/ldap.json', reader({
    '/etc/wheelhouse/ldap.json': JSON.stringify(file),
    '/etc/wheelhouse/ldap-password': 's3cret\n',
    '/etc/ssl/ldap-ca.pem': '-----BEGIN CERTIFICATE-----\n',
  }));
  assert.deepEqual(config.urls, file.url);
  assert.equal(config.bindPassword, 's3cret', 'one line, newline dropped');
  assert.deepEqual(config.userSearch, { base: 'ou=people,dc=example,dc=org', filter: '(&(objectClass=person)(uid={username}))', scope: 'one' });
  assert.deepEqual(config.groupSearch, { base: 'ou=groups,dc=example,dc=org', filter: '(memberUid={username})', scope: 'sub', nameAttribute: 'cn' });
  assert.equal(config.tls?.ca?.toString(), '-----BEGIN CERTIFICATE-----\n');
  assert.equal(config.tls?.startTls, false);
  assert.equal(config.timeoutMs, 2000);
  assert.equal(config.connectTimeoutMs, 3000, 'default');
  assert.equal(config.cacheMs, 300_000);
});

test('a minimal file: anonymous searches, no groups, defaults', () => {
  const config = loadLdapConfig('replica', 'ldap.json', reader({ 'ldap.json': JSON.stringify(minimal) }));
  assert.equal(config.bindDn, undefined);
  assert.equal(config.groupSearch, undefined);
  assert.equal(config.cacheMs, 60_000);
});

test('every problem of an LDAP config file is listed at once, and a missing password file is named', () => {
  const bad = {
    url: 'http://ldap.example.org',
    'bind-dn': 'cn=x',
    'bind-password-file': 'missing',
    'user-search': { base: 'dc=x', filter: '(uid=fixed)' },
    'cache-time': 'soon',
    colour: 'blue',
  };
  assert.throws(
    () => loadLdapConfig('master', '/c/ldap.json', reader({ '/c/ldap.json': JSON.stringify(bad) })),
    (err: SettingsError) => {
      assert.ok(err instanceof SettingsError);
      const text = err.problems.join('\n');
      assert.match(text, /url must be an ldap:\/\/ or ldaps:\/\/ URL/);
      assert.match(text, /unknown key 'colour'/);
      assert.doesNotMatch(text, /must be array/, "the list branch of url's union says nothing when a string was given");
      return true;
    },
  );
  const schemaOk = { ...minimal, 'bind-dn': 'cn=x', 'bind-password-file': 'missing', 'user-search': { base: 'dc=x', filter: '(uid=fixed)' }, 'cache-time': 'soon' };
  assert.throws(
    () => loadLdapConfig('master', '/c/ldap.json', reader({ '/c/ldap.json': JSON.stringify(schemaOk) })),
    (err: SettingsError) => {
      const text = err.problems.join('\n');
      assert.match(text, /user-search\.filter must contain \{username\}/);
      assert.match(text, /cannot read bind-password-file missing/);
      assert.match(text, /cache-time must be a duration/);
      assert.equal(err.problems.length, 3);
      return true;
    },
  );
  assert.throws(() => loadLdapConfig('master', 'x.json', reader({ 'x.json': '{ not json' })), /cannot read it as JSON/);
  assert.throws(() => loadLdapConfig('master', 'gone.json', reader({})), /--ldap-config gone\.json: cannot read it: ENOENT/);
  assert.throws(() => loadLdapConfig('master', 'x.json', reader({ 'x.json': JSON.stringify({ ...minimal, url: 5 }) })), /url must be string or array/);
  assert.throws(() => loadLdapConfig('master', 'x.json', reader({ 'x.json': JSON.stringify({ ...minimal, 'bind-dn': 'cn=x' }) })), /bind-dn needs bind-password-file/);
});
