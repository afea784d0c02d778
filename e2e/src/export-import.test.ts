// Export and import with real processes (issue 5): `wheelhouse export` of a master while it runs
// (online: through its changelog feed) and once stopped (direct), `wheelhouse import` into a new
// data directory, a master started on it. The imported store must be the same logical store — every
// document of the JSON API (users, indexes, projects, versions, hrefs compared without their host)
// and every linked file's bytes — under a new store UUID (devpi once kept the old UUID on import and
// replicas followed a different history unnoticed, fixed in devpi 6.6.1). And an export taken while a
// writer commits continuously is exactly the state at the serial its manifest names.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Changelog } from '@wheelhouse/changelog';
import {
  ApiClient, buildFixture, createIndex, createUser, describeResponse, legacyUpload, sha256Hex, twineUpload, type Credentials,
} from './harness.js';
import { buildSdist, TestRoot, WheelhouseProcess } from '@wheelhouse/testing';
import {
  apiTree, diffTrees, docUpload, exportMode, exportedSerial, fetchBytes, makeDocZip, readManifest, storeUuid, toxResult,
  versionLinks, wheelhouseCli,
} from './dump-tools.js';

const ROOT_PASSWORD = 'root-export-e2e';
type Basic = { readonly user: string; readonly password: string };
const ALICE: Basic = { user: 'alice', password: 'alice-export-pw' };
const BOB: Basic = { user: 'bob', password: 'bob-export-pw' };

const cluster = new TestRoot('export-import');
after(() => cluster.cleanup());

let source: WheelhouseProcess | undefined;
before(async () => {
  source = await cluster.startMaster('source', ROOT_PASSWORD);
}, { timeout: 60_000 });

async function ok(what: string, p: Promise<{ status: number; statusText: string; text: string }>, want = [200]): Promise<void> {
  const res = await p;
  assert.ok(want.includes(res.status), `${what}: ${res.status} ${res.statusText} ${res.text.slice(0, 500)}`);
}

async function uploadSdist(base: string, index: string, who: Credentials, project: string, version: string): Promise<void> {
  const s = buildSdist(project, version);
  const res = await legacyUpload(`${base}/${index}/`, who, { path: s.filename, filename: s.filename, content: s.content, name: project, version });
  assert.equal(res.status, 200, `upload ${s.filename} to ${index}: ${describeResponse(res)}`);
}

/**
 * The store of the round trip: users (one deleted), volatile alice/dev, non-volatile alice/prod,
 * bob/team inheriting alice/prod, an index deleted, twine uploads (a wheel: PEP 658 metadata),
 * legacy uploads, a test result, a doc zip, pushes (which copy test result and docs), deletions of
 * a version and of a file.
 */
async function populate(m: WheelhouseProcess): Promise<void> {
  const root = m.api.as({ user: 'root', password: ROOT_PASSWORD });
  await createUser(root, ALICE.user, ALICE.password);
  await createUser(root, BOB.user, BOB.password);
  await createUser(root, 'carol', 'carol-pw');
  const alice = m.api.as(ALICE);
  const bob = m.api.as(BOB);
  await ok('PATCH /alice', alice.patch('/alice', { title: 'Alice', description: 'exports things' }));
  await createIndex(alice, 'alice/dev', { bases: [], volatile: true });
  await createIndex(alice, 'alice/prod', { volatile: false, title: 'Production' });
  await createIndex(alice, 'alice/tmp', {});
  await createIndex(bob, 'bob/team', { bases: ['alice/prod'], acl_upload: ['bob', 'alice'], description: 'built on alice/prod' });

  const fx = await buildFixture();
  const up = await twineUpload({ repositoryUrl: `${m.url}/alice/dev/`, user: ALICE.user, password: ALICE.password, files: [fx.sdist, fx.wheel] });
  assert.equal(up.code, 0, up.describe());
  for (const v of ['1.0', '1.1', '2.0']) await uploadSdist(m.url, 'alice/dev', ALICE, 'wh-rt-extra', v);
  await uploadSdist(m.url, 'alice/tmp', ALICE, 'wh-rt-gone', '0.1');
  await uploadSdist(m.url, 'bob/team', BOB, 'wh-rt-bob', '0.1');
  await uploadSdist(m.url, 'bob/team', ALICE, 'wh-rt-bob', '0.2');

  // a test result for the wheel, and docs, then a push that copies both
  const links = await versionLinks(m.url, '/alice/dev/wh-e2e-demo/1.0.0');
  const wheel = links.find((l) => l.rel === 'releasefile' && l.href.endsWith('.whl'));
  assert.ok(wheel, `no wheel link: ${JSON.stringify(links)}`);
  await ok('POST test result', alice.post(new URL(wheel.href).pathname, toxResult(wheel.hashes.sha256, 0)));
  const zip = await makeDocZip(cluster.dir('docs.zip'), 'wh-e2e-demo docs');
  await ok('doc upload', docUpload(`${m.url}/alice/dev/`, ALICE, 'wh-e2e-demo', '1.0.0', zip));
  await ok('push wh-e2e-demo 1.0.0', alice.post('/alice/dev', { name: 'wh-e2e-demo', version: '1.0.0', targetindex: 'alice/prod' }));
  await ok('push wh-rt-extra 2.0', alice.post('/alice/dev', { name: 'wh-rt-extra', version: '2.0', targetindex: 'alice/prod' }));

  // deletions: a version, a single file, a user, an index with a project
  await ok('DELETE version', alice.delete('/alice/dev/wh-rt-extra/1.1'));
  const l10 = await versionLinks(m.url, '/alice/dev/wh-rt-extra/1.0');
  assert.equal(l10.length, 1);
  await uploadSdist(m.url, 'alice/dev', ALICE, 'wh-rt-extra', '1.0.1');
  const [file10] = await versionLinks(m.url, '/alice/dev/wh-rt-extra/1.0.1');
  await ok('DELETE file', alice.delete(new URL(file10!.href).pathname));
  await ok('DELETE /carol', root.delete('/carol'));
  await ok('DELETE /alice/tmp', alice.delete('/alice/tmp'), [200, 201]);
}

test('round trip: online and offline exports import into the same logical store under a new UUID; passwords keep working', { timeout: 170_000 }, cluster.guarded(async (t) => {
  const m = source!;
  await populate(m);
  const before = await apiTree(m.url);
  const sourceUuid = await storeUuid(m.url);
  const sourceSerial = await m.api.statusSerial();
  // what the store holds, so that "the trees are equal" is not vacuous
  const allDocs = JSON.stringify([...before.docs.values()]);
  for (const needle of ['"rel":"toxresult"', '"rel":"doczip"', '"what":"push"', 'wh-rt-bob', '"volatile":false']) {
    assert.ok(allDocs.includes(needle), `the source store lacks ${needle}`);
  }
  assert.ok(before.docs.has('/bob/team/wh-rt-bob/0.2') && !before.docs.has('/carol') && !before.docs.has('/alice/tmp'));
  assert.ok(!before.docs.has('/alice/dev/wh-rt-extra/1.1'), 'the deleted version is still listed');
  assert.ok(before.docs.has('/alice/prod/wh-e2e-demo/1.0.0'));
  const fileBytes = new Map<string, string>();
  for (const path of before.files) fileBytes.set(path, sha256Hex(await fetchBytes(`${m.url}${path}`)));
  t.diagnostic(`source: ${before.docs.size} API documents, ${before.files.size} linked files, serial ${sourceSerial}`);

  // export online (the master keeps running), then stopped
  const onlineDir = cluster.dir('dump-online');
  const online = await wheelhouseCli(['export', '--datadir', m.datadir, onlineDir]);
  assert.equal(online.code, 0, online.describe());
  assert.equal(exportMode(online), 'online', online.stdout);
  assert.equal(exportedSerial(online), sourceSerial);
  await m.stop();
  const offlineDir = cluster.dir('dump-offline');
  const offline = await wheelhouseCli(['export', '--datadir', m.datadir, offlineDir]);
  assert.equal(offline.code, 0, offline.describe());
  assert.equal(exportMode(offline), 'direct', offline.stdout);
  const [mOn, mOff] = [readManifest(onlineDir), readManifest(offlineDir)];
  assert.equal(mOn['source-uuid'], sourceUuid);
  assert.equal(mOn.serial, sourceSerial);
  assert.equal(mOff.serial, sourceSerial);
  assert.deepEqual(mOn.counts, mOff.counts);
  assert.deepEqual(mOn.files, mOff.files);
  assert.ok(readFileSync(join(onlineDir, 'state.jsonl')).equals(readFileSync(join(offlineDir, 'state.jsonl'))), 'online and offline exports of the same serial hold different states');
  t.diagnostic(`manifest counts: ${JSON.stringify(mOn.counts)}`);

  // import each into a new data directory; a master on the online one
  const importedDir = cluster.dir('imported');
  const imp = await wheelhouseCli(['import', '--datadir', importedDir, onlineDir]);
  assert.equal(imp.code, 0, imp.describe());
  assert.match(imp.stdout, new RegExp(`imported dump of ${sourceUuid} at serial ${sourceSerial}`));
  const imp2 = await wheelhouseCli(['import', '--datadir', cluster.dir('imported-offline'), offlineDir]);
  assert.equal(imp2.code, 0, imp2.describe());
  const uuidOf = (s: string): string | undefined => /new store uuid (\S+?),/.exec(s)?.[1];
  assert.ok(uuidOf(imp.stdout) && uuidOf(imp2.stdout) && uuidOf(imp.stdout) !== uuidOf(imp2.stdout), `each import mints its own UUID:\n${imp.stdout}\n${imp2.stdout}`);

  const imported = cluster.master('imported', { datadir: importedDir });
  await imported.start();
  try {
    const newUuid = await storeUuid(imported.url);
    assert.notEqual(newUuid, sourceUuid, 'the imported store kept the source UUID');
    assert.equal(newUuid, uuidOf(imp.stdout));
    const after = await apiTree(imported.url);
    assert.deepEqual(diffTrees(before, after, ['source', 'imported']), []);
    assert.deepEqual([...after.files].sort(), [...before.files].sort());
    for (const [path, sha] of fileBytes) {
      assert.equal(sha256Hex(await fetchBytes(`${imported.url}${path}`)), sha, `${path}: other bytes after the import`);
    }
    // PEP 658 metadata of the wheel came along
    const wheelPath = [...after.files].find((p) => p.endsWith('.whl'));
    assert.ok(wheelPath);
    const meta = await fetchBytes(`${imported.url}${wheelPath}.metadata`);
    assert.match(meta.toString('utf8'), /^Name: wh-e2e-demo$/m);

    const api = new ApiClient(imported.url);
    for (const who of [ALICE, BOB, { user: 'root', password: ROOT_PASSWORD }]) {
      const token = await api.login(who.user, who.password);
      assert.ok(token.length > 0);
    }
    const wrong = await api.post('/+login', { user: ALICE.user, password: 'not-her-password' });
    assert.equal(wrong.status, 401, describeResponse(wrong));
    const carol = await api.post('/+login', { user: 'carol', password: 'carol-pw' });
    assert.equal(carol.status, 401, `the deleted user can log in: ${describeResponse(carol)}`);
    // and the imported store takes writes
    await uploadSdist(imported.url, 'alice/dev', ALICE, 'wh-rt-after-import', '1.0');
  } finally {
    await imported.stop();
  }
}));

/**
 * Online export while a writer commits continuously. How "the dump is exactly the state at its
 * serial S" is checked: the source's changelog keeps every record, and `Changelog.stateDigest(S)`
 * replays records 0..S into a digest over sorted keys and msgpack-encoded values (equal iff the
 * states are equal). Importing the dump writes exactly its state.jsonl entries into a fresh store, so
 * the imported store's digest at its head is the digest of the dump's state. The two must be equal;
 * and the digest at S+1 (the writer committed past S) must differ, so an export that was off by
 * one serial would fail. JSON round-tripping cannot make equal states look different: every stored
 * value is plain JSON data (objects, arrays, strings, numbers, booleans, null).
 */
test('online export while a writer commits continuously: the dump is exactly the state at its serial', { timeout: 150_000 }, cluster.guarded(async (t) => {
  const busy = await cluster.startMaster('busy', ROOT_PASSWORD);
  const root = busy.api.as({ user: 'root', password: ROOT_PASSWORD });
  await createUser(root, 'writer', 'writer-pw');
  await createIndex(busy.api.as({ user: 'writer', password: 'writer-pw' }), 'writer/dev');
  let stop = false;
  let writes = 0;
  const writeErrors: string[] = [];
  const writer = (async () => {
    for (let i = 0; i < 600 && !stop; i++) {
      try {
        if (i % 3 === 2) {
          const res = await root.put(`/w${i}`, { password: `pw-${i}`, email: `w${i}@example.invalid` });
          if (res.status !== 201) writeErrors.push(`PUT /w${i}: ${describeResponse(res)}`);
        } else {
          const s = buildSdist('wh-busy', `1.0.${i}`);
          const res = await legacyUpload(`${busy.url}/writer/dev/`, { user: 'writer', password: 'writer-pw' }, {
            path: s.filename, filename: s.filename, content: s.content, name: 'wh-busy', version: `1.0.${i}`,
          });
          if (res.status !== 200) writeErrors.push(`upload ${s.filename}: ${describeResponse(res)}`);
        }
        writes++;
      } catch (err) {
        writeErrors.push(String(err));
      }
    }
  })();
  const waitWrites = async (n: number): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (writes < n && Date.now() < deadline && writeErrors.length === 0) await new Promise((r) => setTimeout(r, 50));
    assert.ok(writes >= n, `the writer made only ${writes} writes (errors: ${writeErrors.join('; ')})`);
  };
  let dumpSerial: number;
  const dumpDir = cluster.dir('dump-busy');
  try {
    await waitWrites(15);
    const before = writes;
    const exp = await wheelhouseCli(['export', '--datadir', busy.datadir, dumpDir]);
    assert.equal(exp.code, 0, exp.describe());
    assert.equal(exportMode(exp), 'online');
    dumpSerial = exportedSerial(exp);
    t.diagnostic(`export at serial ${dumpSerial}; the writer made ${writes - before} writes while it ran`);
    await waitWrites(writes + 5);
  } finally {
    stop = true;
    await writer;
  }
  assert.deepEqual(writeErrors, []);
  const finalSerial = await busy.api.statusSerial();
  await busy.stop();
  assert.equal(readManifest(dumpDir).serial, dumpSerial);
  assert.ok(finalSerial > dumpSerial, `the writer did not commit past the export's serial (${dumpSerial} vs ${finalSerial})`);

  const src = await Changelog.open({ location: join(busy.datadir, 'db') });
  let atS: string;
  let atNext: string;
  try {
    atS = await src.stateDigest(dumpSerial);
    atNext = await src.stateDigest(dumpSerial + 1);
  } finally {
    await src.close();
  }
  assert.notEqual(atS, atNext, 'the record after S changes nothing: the check would be vacuous');
  const importedDir = cluster.dir('busy-imported');
  const imp = await wheelhouseCli(['import', '--datadir', importedDir, dumpDir]);
  assert.equal(imp.code, 0, imp.describe());
  const dst = await Changelog.open({ location: join(importedDir, 'db') });
  try {
    assert.equal(await dst.stateDigest(), atS, `the dump's state differs from the source's state at serial ${dumpSerial}`);
  } finally {
    await dst.close();
  }
}));
