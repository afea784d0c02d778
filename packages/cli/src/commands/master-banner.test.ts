import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Changelog } from '@wheelhouse/changelog';
import { createIndex, createUser } from '@wheelhouse/core';
import { baseUrl, masterBanner } from './master-banner.js';

test('the master banner gives pip and twine lines per stage index and no twine line for a mirror index', async () => {
  const changelog = await Changelog.openInMemory();
  try {
    await changelog.write((tx) => {
      createUser(tx, 'root', {});
      createIndex(tx, 'root', 'pypi', { type: 'mirror' });
      createIndex(tx, 'root', 'dev', { bases: ['root/pypi'] });
    });
    const lines = masterBanner(changelog, 'data', 'http://h:1');
    assert.equal(lines[0], `Wheelhouse master serving ${resolve('data')} at http://h:1`);
    assert.ok(lines.includes('  pip install --index-url http://h:1/root/dev/+simple/ PROJECT   |   twine upload --repository-url http://h:1/root/dev/ FILES'), lines.join('\n'));
    assert.ok(lines.includes('  pip install --index-url http://h:1/root/pypi/+simple/ PROJECT   (mirror)'), lines.join('\n'));
    assert.equal(lines.length, 3);
  } finally {
    await changelog.close();
  }
});

test('baseUrl brackets an IPv6 host (RFC 3986 §3.2.2)', () => {
  assert.equal(baseUrl('127.0.0.1', 3141), 'http://127.0.0.1:3141');
  assert.equal(baseUrl('::1', 3141), 'http://[::1]:3141');
});
