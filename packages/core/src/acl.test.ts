import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusOf } from '@wheelhouse/http';
import { aclAllows, normalizeAclEntry, userPrincipal } from './acl.js';

test('aclAllows: :group:NAME lets members of that directory group through, nobody else (issue 15)', () => {
  const acl = ['alice', ':group:release-managers'];
  assert.equal(aclAllows(acl, userPrincipal('carol', ['developers', 'release-managers'])), true, 'a member');
  assert.equal(aclAllows(acl, userPrincipal('dave', ['developers'])), false, 'a member of another group');
  assert.equal(aclAllows(acl, userPrincipal('release-managers')), false, 'a user named like the group is not its member');
  assert.equal(aclAllows(acl, userPrincipal('alice')), true, 'a user named in the list');
  assert.equal(aclAllows(acl, undefined), false, 'anonymous');
  assert.equal(aclAllows([':group:Release-Managers'], userPrincipal('carol', ['release-managers'])), false, 'group names compare exactly, as devpi-ldap');
  assert.equal(aclAllows([':AUTHENTICATED:'], userPrincipal('carol', ['x'])), true);
  assert.equal(aclAllows([':ANONYMOUS:'], undefined), true);
});

test('normalizeAclEntry: special names upper-cased, the :group: prefix lower-cased, an empty group refused with 400', () => {
  assert.equal(normalizeAclEntry(' :anonymous: '), ':ANONYMOUS:');
  assert.equal(normalizeAclEntry(':GROUP:devs'), ':group:devs');
  assert.equal(normalizeAclEntry(':group: Devs '), ':group:Devs');
  assert.equal(normalizeAclEntry('alice'), 'alice');
  assert.throws(() => normalizeAclEntry(':group:'), (err: Error) => statusOf(err) === 400 && /names no group/.test(err.message));
});
