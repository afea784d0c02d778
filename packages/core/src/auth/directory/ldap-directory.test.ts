import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fillFilter, LdapDirectory } from './ldap-directory.js';

test('fillFilter escapes every filter metacharacter of the values (RFC 4515), so a user name cannot widen the search', () => {
  assert.equal(fillFilter('(uid={username})', { username: 'alice' }), '(uid=alice)');
  assert.equal(fillFilter('(uid={username})', { username: '*' }), '(uid=\\2a)');
  assert.equal(fillFilter('(uid={username})', { username: 'a*)(uid=*' }), '(uid=a\\2a\\29\\28uid=\\2a)');
  assert.equal(fillFilter('(uid={username})', { username: 'back\\slash\0' }), '(uid=back\\5cslash\\00)');
  assert.equal(
    fillFilter('(|(member={dn})(memberUid={username}))', { dn: 'uid=carol,ou=people,dc=example,dc=org', username: 'carol' }),
    '(|(member=uid=carol,ou=people,dc=example,dc=org)(memberUid=carol))',
  );
  assert.equal(fillFilter('(cn={other})', { username: 'x' }), '(cn={other})', 'unknown placeholders stay');
});

test('an unreachable directory rejects (the caller answers 503), trying every URL', async () => {
  const dir = new LdapDirectory({
    urls: ['ldap://127.0.0.1:1/', 'ldap://127.0.0.1:2/'],
    userSearch: { base: 'dc=example,dc=org', filter: '(uid={username})', scope: 'sub' },
    timeoutMs: 1000,
    connectTimeoutMs: 1000,
    cacheMs: 0,
  });
  await assert.rejects(dir.authenticate('alice', 'pw'), /ECONNREFUSED|connect/);
});
