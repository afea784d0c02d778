// devpi's JSON views of mirrored releases: `+e` paths of hashless links, `+f` paths of hashed ones,
// private versions first, and no mirror at all for a name a private stage holds (dependency confusion).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { createUser } from '../model/users.js';
import { createIndex } from '../model/indexes.js';
import { attachFile } from '../model/releases.js';
import type { MirrorProjectRecord } from '../model/records.js';
import { keys } from '../model/keys.js';
import { mirrorExternalPath, mirrorVersionViews, prepareMirrorPages } from './mirror-views.js';
import type { MirrorAccess } from './mirror-access.js';

const BASE = 'http://wh.example.invalid';

test('mirrorExternalPath is devpi\'s +e path: scheme, host and port, directories joined by _', () => {
  assert.equal(
    mirrorExternalPath('u/m', { url: 'http://127.0.0.1:54225/pkg/pkg-1.0.zip', filename: 'pkg-1.0.zip' }),
    'u/m/+e/http_127.0.0.1_54225_pkg/pkg-1.0.zip',
  );
  assert.equal(
    mirrorExternalPath('u/m', { url: 'https://files.example.invalid/a%20b/pkg-1.0.zip', filename: 'pkg-1.0.zip' }),
    'u/m/+e/https_files.example.invalid_a_20b/pkg-1.0.zip',
  );
});

async function setup(): Promise<Changelog> {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'u', {});
    createIndex(tx, 'u', 'm', { type: 'mirror', mirror_url: 'http://127.0.0.1:9/simple' });
    createIndex(tx, 'u', 'dev', { bases: ['u/m'] });
    const rec: MirrorProjectRecord = {
      name: 'pkg',
      links: [
        { filename: 'pkg-1.0.zip', url: 'http://127.0.0.1:9/pkg/pkg-1.0.zip', version: '1.0' },
        { filename: 'pkg-2.0.tar.gz', url: 'http://127.0.0.1:9/pkg/pkg-2.0.tar.gz', version: '2.0', sha256: 'a'.repeat(64) },
        { filename: 'pkg-1!2017.4+devpi.zip', url: 'http://127.0.0.1:9/pkg/pkg-1%212017.4%2Bdevpi.zip', version: '1!2017.4+devpi', sha256: '1234' },
      ],
      serial: -1,
      fetched: Date.now(),
    };
    tx.set(keys.mirrorProject('u/m', 'pkg'), rec);
    tx.set(keys.mirrorProject('u/m', 'empty'), { name: 'empty', links: [], serial: -1, fetched: Date.now() } satisfies MirrorProjectRecord);
  });
  return cl;
}

test('mirrorVersionViews: one verdata per mirrored version with +e / +f hrefs, from the mirror and from a stage inheriting it', async () => {
  const cl = await setup();
  for (const stage of ['u/m', 'u/dev']) {
    const views = mirrorVersionViews(cl, stage, 'PKG', BASE);
    assert.equal(views.known, true);
    assert.deepEqual([...views.versions.keys()].sort(), ['1!2017.4+devpi', '1.0', '2.0']);
    assert.deepEqual(views.versions.get('1.0'), { name: 'pkg', version: '1.0', '+links': [{ rel: 'releasefile', href: `${BASE}/u/m/+e/http_127.0.0.1_9_pkg/pkg-1.0.zip` }] });
    const hashed = (views.versions.get('2.0')!['+links'] as Array<Record<string, unknown>>)[0]!;
    assert.equal(hashed['href'], `${BASE}/u/m/+f/aaa/${'a'.repeat(13)}/pkg-2.0.tar.gz`);
    assert.equal(hashed['hash_spec'], `sha256=${'a'.repeat(64)}`);
    const quoted = (views.versions.get('1!2017.4+devpi')!['+links'] as Array<Record<string, unknown>>)[0]!;
    assert.equal(quoted['href'], `${BASE}/u/m/+f/123/4/pkg-1!2017.4+devpi.zip`, '+ and ! stay literal, as devpi');
  }
  const empty = mirrorVersionViews(cl, 'u/m', 'empty', BASE);
  assert.equal(empty.known, true, 'a cached page without files: the project exists, with no versions');
  assert.equal(empty.versions.size, 0);
  assert.equal(mirrorVersionViews(cl, 'u/m', 'never-fetched', BASE).known, false);
});

test('mirrorVersionViews: a name held by a private stage gets nothing from the mirror; prepareMirrorPages asks only allowed mirrors', async () => {
  const cl = await setup();
  await cl.write((tx) => attachFile(tx, 'u/dev', { name: 'pkg', version: '3.0' }, { filename: 'pkg-3.0.tar.gz', sha256: 'b'.repeat(64), size: 1 }, 'releasefile', 'u'));
  assert.equal(mirrorVersionViews(cl, 'u/dev', 'pkg', BASE).known, false);
  const asked: string[] = [];
  const mirrors = { prepare: (m: string, p: string) => (asked.push(`${m} ${p}`), undefined) } as unknown as MirrorAccess;
  assert.deepEqual(await prepareMirrorPages(cl, mirrors, 'u/dev', 'pkg'), []);
  assert.deepEqual(asked, [], 'the private name is not sent upstream');
  assert.deepEqual(await prepareMirrorPages(cl, mirrors, 'u/dev', 'other'), [{}]);
  assert.deepEqual(asked, ['u/m other']);
});
