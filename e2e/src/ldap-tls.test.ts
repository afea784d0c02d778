// The LDAP client's TLS options against Debian's real slapd (issue 15, part 1): a CA and a server
// certificate made with openssl, slapd on ldap:// (StartTLS) and ldaps://. Core's LdapDirectory (what
// --ldap-config's "tls" configures) signs a user in over ldaps:// trusting the CA file's CA, and
// over StartTLS; without the CA a certificate it cannot verify is refused (the directory counts as
// unreachable: 503 for directory users), unless reject-unauthorized is false.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LdapDirectory, type LdapConfig } from '@wheelhouse/core';
import { ADMIN_DN, GROUPS, issueServerCert, makeTestCa, PEOPLE, Slapd, slapdMissing, TestRoot } from '@wheelhouse/testing';

const missing = slapdMissing();

describe('LDAP over TLS (real slapd, openssl certificates)', { skip: missing, timeout: 180_000 }, () => {
  const work = new TestRoot('ldap-tls');
  let slapd: Slapd;
  let ca: Buffer;
  before(async () => {
    const testCa = await makeTestCa(work.dir('pki'));
    const server = await issueServerCert(testCa, 'slapd');
    ca = readFileSync(testCa.certFile);
    slapd = await Slapd.start(work.dir('slapd'), [{ uid: 'erin', password: 'erin-pw', groups: ['ops'] }], 'admin-tls', { cert: server.certFile, key: server.keyFile });
  }, { timeout: 120_000 });
  after(async () => {
    await slapd?.stop();
    await work.cleanup();
  });

  const config = (url: string, tls: LdapConfig['tls']): LdapConfig => ({
    urls: [url],
    bindDn: ADMIN_DN,
    bindPassword: 'admin-tls',
    userSearch: { base: PEOPLE, filter: '(uid={username})', scope: 'sub' },
    groupSearch: { base: GROUPS, filter: '(member={dn})', scope: 'sub', nameAttribute: 'cn' },
    ...(tls ? { tls } : {}),
    timeoutMs: 5_000,
    connectTimeoutMs: 5_000,
    cacheMs: 0,
  });

  test('ldaps:// trusting the CA file signs in and finds the groups; a wrong password stays a wrong password', async () => {
    const dir = new LdapDirectory(config(slapd.tlsUrl, { ca, rejectUnauthorized: true, startTls: false }));
    assert.deepEqual(await dir.authenticate('erin', 'erin-pw'), { groups: ['ops'] });
    assert.equal(await dir.authenticate('erin', 'nope'), 'wrong-password');
  });

  test('StartTLS on ldap:// with the CA file', async () => {
    const dir = new LdapDirectory(config(slapd.url, { ca, rejectUnauthorized: true, startTls: true }));
    assert.deepEqual(await dir.authenticate('erin', 'erin-pw'), { groups: ['ops'] });
  });

  test('without the CA the certificate is refused (the directory cannot answer); reject-unauthorized false accepts it', async () => {
    const strict = new LdapDirectory(config(slapd.tlsUrl, undefined));
    await assert.rejects(strict.authenticate('erin', 'erin-pw'), /certificate|self.signed|unable to verify/i);
    const lax = new LdapDirectory(config(slapd.tlsUrl, { rejectUnauthorized: false, startTls: false }));
    assert.deepEqual(await lax.authenticate('erin', 'erin-pw'), { groups: ['ops'] });
  });
});
