// Migration from devpi (issue 5): `wheelhouse import --from-devpi` of the real devpi-server 6.19.1
// export in ../shared/data/devpi-export (described, with the facts checked on the live devpi server,
// in ../shared/data/devpi-export.md), then a master on the new data directory. Each test checks
// the facts of one section of "Facts an importer should verify after import"; pip downloads and
// installs through the imported indexes. root/pypi is a mirror index: not supported yet, skipped and
// reported (docs/dump-format.md), so alice/dev loses its root/pypi base.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiClient, alteredWheelCopy, describeResponse, legacyUpload, pipDownload, projectJson, projectListJson, pythonClientEnv,
  repoRoot, resolveFileUrl, resultOf, run, sha256Hex, simpleUrl, systemPython,
} from './harness.js';
import { type RunResult, sharedDataFile, TestRoot, type WheelhouseProcess } from '@wheelhouse/testing';
import { blobFiles } from './node-state.js';
import { apiTree, dirEntries, fetchBytes, versionLinks, wheelhouseCli, type VersionLink } from './dump-tools.js';

const DEVPI_EXPORT = process.env['WH_DEVPI_EXPORT'] ?? sharedDataFile('devpi-export');

/** The files table of devpi-export.md: index, project, version, rel, file name, bytes, sha256. */
const FILES: ReadonlyArray<readonly [string, string, string, string, string, number, string]> = [
  ['alice/dev', 'wh-demo-cli', '0.3.0', 'releasefile', 'wh-demo-cli-0.3.0.tar.gz', 1703, '534450baf3fd7f47a286f7e13da018071eff68c1cfafba9c0d98f700f4cedf13'],
  ['alice/dev', 'wh-demo-cli', '0.3.0', 'releasefile', 'wh_demo_cli-0.3.0-py3-none-any.whl', 1978, '9ae68fffeb6542730cf3b45f949d61e1fb320bc8ec935e899ee83052986482ca'],
  ['alice/dev', 'wh-demo-core', '1.0.0', 'releasefile', 'wh_demo_core-1.0.0-py3-none-any.whl', 1753, 'fef94281921aacf18be262be347ab00a82fbac043ab052cccd4b4812237b061d'],
  ['alice/dev', 'wh-demo-core', '1.0.0', 'releasefile', 'wh-demo-core-1.0.0.tar.gz', 1602, 'bf93d7f4f4a80462e4ab0e6668675705a30c19b82d7b0f2a47a193176645640d'],
  ['alice/dev', 'wh-demo-core', '1.0.0', 'toxresult', 'wh_demo_core-1.0.0-py3-none-any.whl.toxresult-20261125215154-0', 2298, '366e9e6a76096999637f290dfa0fc8577ee5049040c81f853ea3710f31557e33'],
  ['alice/dev', 'wh-demo-core', '1.1.0', 'releasefile', 'wh-demo-core-1.1.0.tar.gz', 1612, '9230ae389d36df9de2ee0dbca9c97a862c9c02181255109fa92f0c2b16608da8'],
  ['alice/dev', 'wh-demo-core', '1.1.0', 'releasefile', 'wh_demo_core-1.1.0-py3-none-any.whl', 1823, 'c5e243b042d5d9e715379386477e54d106372332c3bcf6ad192ee5c2d186a5b3'],
  ['alice/dev', 'wh-demo-core', '1.1.0', 'doczip', 'wh-demo-core-1.1.0.doc.zip', 912, 'a8bb7f70fa0063c40431f4c10e721722a0982197d839a1962738cc8d64a5ed78'],
  ['alice/prod', 'wh-demo-cli', '0.3.0', 'releasefile', 'wh-demo-cli-0.3.0.tar.gz', 1703, '534450baf3fd7f47a286f7e13da018071eff68c1cfafba9c0d98f700f4cedf13'],
  ['alice/prod', 'wh-demo-cli', '0.3.0', 'releasefile', 'wh_demo_cli-0.3.0-py3-none-any.whl', 1978, '9ae68fffeb6542730cf3b45f949d61e1fb320bc8ec935e899ee83052986482ca'],
  ['alice/prod', 'wh-demo-core', '1.0.0', 'releasefile', 'wh-demo-core-1.0.0.tar.gz', 1602, 'bf93d7f4f4a80462e4ab0e6668675705a30c19b82d7b0f2a47a193176645640d'],
  ['alice/prod', 'wh-demo-core', '1.0.0', 'releasefile', 'wh_demo_core-1.0.0-py3-none-any.whl', 1753, 'fef94281921aacf18be262be347ab00a82fbac043ab052cccd4b4812237b061d'],
  ['alice/prod', 'wh-demo-core', '1.0.0', 'toxresult', 'wh_demo_core-1.0.0-py3-none-any.whl.toxresult-20261125215204-0', 2298, '366e9e6a76096999637f290dfa0fc8577ee5049040c81f853ea3710f31557e33'],
  ['bob/team', 'wh-demo-mixed-case', '0.1.0a1', 'releasefile', 'Wh_Demo.Mixed-Case-0.1.0a1.tar.gz', 1564, '531d150befb31894fdb45095319ca63652c326f428ccef5264a39d39524d5a28'],
  ['bob/team', 'wh-demo-mixed-case', '0.1.0a1', 'releasefile', 'Wh_Demo.Mixed_Case-0.1.0a1-py3-none-any.whl', 1779, '8a02d971711f6a172e21749a277349999cd76239e5d2929c3800faf20b630e8c'],
];
const shaOf = (filename: string): string => FILES.find((f) => f[4] === filename)![6];

const cluster = new TestRoot('devpi-import');
let report: RunResult | undefined;
let node: WheelhouseProcess | undefined;
after(async () => {
  await node?.stop();
  await cluster.cleanup();
});
const m = (): WheelhouseProcess => {
  assert.ok(node, 'the imported master did not start (see the before hook)');
  return node;
};

before(async () => {
  if (!existsSync(join(DEVPI_EXPORT, 'dataindex.json'))) throw new Error(`no devpi export at ${DEVPI_EXPORT} (set WH_DEVPI_EXPORT)`);
  const datadir = cluster.dir('imported');
  report = await wheelhouseCli(['import', '--from-devpi', '--datadir', datadir, DEVPI_EXPORT]);
  if (report.code !== 0) throw new Error(`import --from-devpi failed:\n${report.describe()}`);
  node = cluster.master('imported', { datadir: datadir });
  await node.start();
}, { timeout: 90_000 });

/** `pip --isolated install --target DIR` with Debian's pip (isolated from the machine's pip config). */
function pipInstallTarget(indexUrl: string, target: string, requirements: readonly string[]): Promise<RunResult> {
  return run(
    systemPython,
    ['-m', 'pip', '--isolated', 'install', '--no-cache-dir', '--index-url', indexUrl, '--timeout', '30', '--retries', '0', '--target', target, ...requirements],
    { timeoutMs: 120_000, env: pythonClientEnv() },
  );
}

test('the import reports what it did, and that the mirror root/pypi was skipped (and dropped from alice/dev\'s bases)', { timeout: 10_000 }, () => {
  const out = report!.stdout;
  assert.match(out, /imported devpi 6\.19\.1 export/);
  assert.match(out, /3 users, 4 indexes/);
  assert.match(out, /note: skipped mirror index root\/pypi/);
  assert.match(out, /note: alice\/dev: base root\/pypi dropped/);
});

test('fact 1: users root, alice, bob; alice\'s email; their devpi (passlib argon2) passwords log in; a wrong one is refused', { timeout: 30_000 }, cluster.guarded(async () => {
  const api = new ApiClient(m().url);
  const users = resultOf<Record<string, Record<string, unknown>>>(await api.get('/'));
  assert.deepEqual(Object.keys(users).sort(), ['alice', 'bob', 'root']);
  assert.equal(users['alice']?.['email'], 'alice@example.com');
  assert.equal(users['bob']?.['email'], undefined);
  for (const [user, password] of [['alice', 'alice-pw'], ['bob', 'bob-pw'], ['root', 'rootpw']] as const) {
    const res = await api.post('/+login', { user, password });
    assert.equal(res.status, 200, `login ${user}: ${describeResponse(res)}`);
  }
  const wrong = await api.post('/+login', { user: 'alice', password: 'alice-pw-wrong' });
  assert.equal(wrong.status, 401, describeResponse(wrong));
}));

test('facts 2 and 8: the stage indexes with their exact configs (non-volatile alice/prod); root/staging empty; root/pypi skipped', { timeout: 30_000 }, cluster.guarded(async () => {
  const api = new ApiClient(m().url);
  const common = { type: 'stage', mirror_whitelist: [], mirror_whitelist_inheritance: 'intersection', acl_toxresult_upload: [':ANONYMOUS:'] };
  const want: Record<string, Record<string, unknown>> = {
    'root/staging': { ...common, bases: [], volatile: true, acl_upload: ['root'], projects: [] },
    'alice/dev': { ...common, bases: [], volatile: true, acl_upload: ['alice'], projects: ['wh-demo-cli', 'wh-demo-core'] },
    'alice/prod': { ...common, bases: [], volatile: false, acl_upload: ['alice'], projects: ['wh-demo-cli', 'wh-demo-core'] },
    'bob/team': {
      ...common, bases: ['alice/prod'], volatile: true, acl_upload: ['bob', 'alice'], projects: ['wh-demo-mixed-case'],
      title: "Bob's team index", description: 'Team releases built on top of alice/prod.',
    },
  };
  const all: string[] = [];
  for (const user of ['root', 'alice', 'bob']) {
    const u = resultOf<{ indexes: Record<string, unknown> }>(await api.get(`/${user}`));
    for (const ix of Object.keys(u.indexes)) all.push(`${user}/${ix}`);
  }
  assert.deepEqual(all.sort(), Object.keys(want).sort());
  for (const [stage, cfg] of Object.entries(want)) {
    const got = resultOf<Record<string, unknown>>(await api.get(`/${stage}`));
    assert.deepEqual({ ...got, projects: [...(got['projects'] as string[])].sort() }, cfg, stage);
  }
  const pypi = await api.get('/root/pypi');
  assert.equal(pypi.status, 404, describeResponse(pypi));
}));

async function checkFiles(stage: string): Promise<VersionLink[]> {
  const all: VersionLink[] = [];
  const rows = FILES.filter((f) => f[0] === stage);
  for (const version of new Set(rows.map((r) => `${r[1]}/${r[2]}`))) {
    const links = await versionLinks(m().url, `/${stage}/${version}`);
    const want = rows.filter((r) => `${r[1]}/${r[2]}` === version).map((r) => `${r[3]} ${r[4]} ${r[5]} ${r[6]}`).sort();
    const got = links.map((l) => `${l.rel} ${decodeURIComponent(l.href.split('/').pop()!)} ${l.size} ${l.hashes.sha256}`).sort();
    assert.deepEqual(got, want, `${stage}/${version}`);
    for (const l of links) {
      const bytes = await fetchBytes(l.href);
      assert.equal(sha256Hex(bytes), l.hashes.sha256, `${l.href}: bytes do not hash to the listed sha256`);
    }
    all.push(...links);
  }
  return all;
}

test('fact 3: alice/dev — 6 distribution files, the doc zip and the test result with their hashes; 1.0.1 absent; 1.1.0 wheel is the overwrite', { timeout: 30_000 }, cluster.guarded(async () => {
  const api = new ApiClient(m().url);
  const core = resultOf<Record<string, unknown>>(await api.get('/alice/dev/wh-demo-core'));
  assert.deepEqual(Object.keys(core).sort(), ['1.0.0', '1.1.0']);
  assert.deepEqual(Object.keys(resultOf(await api.get('/alice/dev/wh-demo-cli'))), ['0.3.0']);
  const gone = await api.get('/alice/dev/wh-demo-core/1.0.1');
  assert.equal(gone.status, 404, `the deleted 1.0.1 exists: ${describeResponse(gone)}`);
  const links = await checkFiles('alice/dev');
  assert.equal(links.filter((l) => l.rel === 'releasefile').length, 6);
  const wheel110 = links.find((l) => l.href.endsWith('wh_demo_core-1.1.0-py3-none-any.whl'))!;
  assert.equal(wheel110.hashes.sha256, 'c5e243b042d5d9e715379386477e54d106372332c3bcf6ad192ee5c2d186a5b3');
  assert.equal(wheel110.log[0]?.['what'], 'overwrite', JSON.stringify(wheel110.log));
  assert.equal(wheel110.log.at(-1)?.['what'], 'upload');
  const tox = links.find((l) => l.rel === 'toxresult')!;
  assert.ok(tox.for_href?.endsWith('/alice/dev/+f/fef/94281921aacf1/wh_demo_core-1.0.0-py3-none-any.whl'), `for_href ${String(tox.for_href)}`);
  type Env = { installpkg: { sha256: string }; test: Array<{ retcode: number }> };
  const report = JSON.parse((await fetchBytes(tox.href)).toString('utf8')) as { toxversion: string; host: string; testenvs: { py311: Env } };
  assert.equal(report.toxversion, '3.28.0');
  assert.equal(report.host, 'vm');
  assert.equal(report.testenvs.py311.installpkg.sha256, shaOf('wh_demo_core-1.0.0-py3-none-any.whl'));
  assert.ok(report.testenvs.py311.test.every((c) => c.retcode === 0));
  const doc = links.find((l) => l.rel === 'doczip')!;
  const zip = await fetchBytes(doc.href);
  for (const name of ['index.html', 'changelog.html', 'api/index.html']) assert.ok(zip.includes(Buffer.from(name)), `the doc zip lacks ${name}`);
  // metadata of the version, as devpi had it
  const v = resultOf<Record<string, unknown>>(await api.get('/alice/dev/wh-demo-cli/0.3.0'));
  assert.deepEqual(v['requires_dist'], ['wh-demo-core (>=1.0)']);
  assert.equal(v['requires_python'], '>=3.8');
  assert.equal(v['description_content_type'], 'text/markdown');
}));

test('fact 4 and 7: alice/prod — pushed files with the same hashes as in alice/dev, upload+push logs, the pushed test result; no 1.1.0, no docs; each blob stored once', { timeout: 30_000 }, cluster.guarded(async () => {
  const api = new ApiClient(m().url);
  assert.deepEqual(Object.keys(resultOf(await api.get('/alice/prod/wh-demo-core'))), ['1.0.0']);
  const links = await checkFiles('alice/prod');
  assert.ok(!links.some((l) => l.rel === 'doczip'));
  for (const l of links) {
    assert.deepEqual(l.log.map((e) => e['what']), ['upload', 'push'], `${l.href}: ${JSON.stringify(l.log)}`);
    assert.equal(l.log[1]?.['src'], 'alice/dev');
  }
  const tox = links.find((l) => l.rel === 'toxresult')!;
  assert.ok(tox.for_href?.endsWith('/alice/prod/+f/fef/94281921aacf1/wh_demo_core-1.0.0-py3-none-any.whl'), `for_href ${String(tox.for_href)}`);
  const blobs = blobFiles(m().datadir);
  for (const sha of new Set(FILES.map((f) => f[6]))) assert.ok(blobs.has(sha), `blob ${sha} not stored`);
  assert.ok(!blobs.has('4b1939c9e25b3a0131edf183db295e6e492f836b356b2c0b9b6f7c2d43e53fc5'), 'the overwritten content was imported');
}));

test('fact 5: bob/team inherits alice/prod — its simple page lists 3 projects, pip downloads wh-demo-cli with both wheels from alice/prod, and installs it', { timeout: 150_000 }, cluster.guarded(async () => {
  const url = m().url;
  const { data: list } = await projectListJson(url, 'bob/team');
  assert.deepEqual(list.projects.map((p) => p.name).sort(), ['wh-demo-cli', 'wh-demo-core', 'wh-demo-mixed-case']);
  for (const project of ['wh-demo-cli', 'wh-demo-core']) {
    const { page, data } = await projectJson(url, 'bob/team', project);
    assert.ok(data.files.length > 0);
    for (const f of data.files) assert.match(new URL(resolveFileUrl(page.url, f.url)).pathname, /^\/alice\/prod\/\+f\//, `${project}: ${f.url}`);
  }
  const dest = cluster.dir('download-cli');
  const dl = await pipDownload({ indexUrl: simpleUrl(url, 'bob/team'), requirements: ['wh-demo-cli'], dest });
  assert.equal(dl.code, 0, dl.describe());
  assert.deepEqual(readdirSync(dest).sort(), ['wh_demo_cli-0.3.0-py3-none-any.whl', 'wh_demo_core-1.0.0-py3-none-any.whl']);
  for (const f of readdirSync(dest)) assert.equal(sha256Hex(readFileSync(join(dest, f))), shaOf(f), f);
  const target = cluster.dir('install-cli');
  const inst = await pipInstallTarget(simpleUrl(url, 'bob/team'), target, ['wh-demo-cli']);
  assert.equal(inst.code, 0, inst.describe());
  const installed = dirEntries(target) ?? [];
  assert.ok(installed.some((n) => /^wh_demo_cli-0\.3\.0\.dist-info$/.test(n)) && installed.some((n) => /^wh_demo_core-1\.0\.0\.dist-info$/.test(n)), installed.join(', '));
}));

test('fact 6: the mixed-case name redirects to the normalised one, and pip gets the wheel by either name', { timeout: 120_000 }, cluster.guarded(async () => {
  const url = m().url;
  const res = await fetch(`${url}/bob/team/Wh_Demo.Mixed-Case/`, { redirect: 'manual', headers: { Accept: 'application/json' } });
  await res.arrayBuffer();
  assert.ok(res.status === 301 || res.status === 302, `GET /bob/team/Wh_Demo.Mixed-Case/ → ${res.status}`);
  assert.match(res.headers.get('location') ?? '', /\/bob\/team\/wh-demo-mixed-case\/?$/);
  const v = resultOf<Record<string, unknown>>(await new ApiClient(url).get('/bob/team/wh-demo-mixed-case/0.1.0a1'));
  assert.equal(v['name'], 'Wh-Demo.Mixed-Case');
  for (const [i, name] of ['Wh_Demo.Mixed-Case', 'wh-demo-mixed-case'].entries()) {
    const dest = cluster.dir(`download-mixed-${i}`);
    const dl = await pipDownload({ indexUrl: simpleUrl(url, 'bob/team'), requirements: [name], dest, noDeps: true });
    assert.equal(dl.code, 0, dl.describe());
    assert.deepEqual(readdirSync(dest), ['Wh_Demo.Mixed_Case-0.1.0a1-py3-none-any.whl']);
    assert.equal(sha256Hex(readFileSync(join(dest, 'Wh_Demo.Mixed_Case-0.1.0a1-py3-none-any.whl'))), shaOf('Wh_Demo.Mixed_Case-0.1.0a1-py3-none-any.whl'));
  }
}));

test('the whole imported JSON API answers (every user, index, project and version)', { timeout: 30_000 }, cluster.guarded(async () => {
  const tree = await apiTree(m().url);
  assert.ok(tree.docs.has('/bob/team/wh-demo-cli/0.3.0'), [...tree.docs.keys()].join(', '));
  // 15 stored files (bob/team's inherited views link alice/prod's files)
  assert.equal(tree.files.size, 15, [...tree.files].join('\n'));
}));

test('fact 2: non-volatile alice/prod refuses a re-upload with other content (409) and accepts identical content (200)', { timeout: 60_000 }, cluster.guarded(async () => {
  const url = m().url;
  const wheel = join(DEVPI_EXPORT, 'alice/prod/wh-demo-core/1.0.0/wh_demo_core-1.0.0-py3-none-any.whl');
  const alice = { user: 'alice', password: 'alice-pw' };
  mkdirSync(cluster.dir('altered'));
  const altered = await alteredWheelCopy(wheel, cluster.dir('altered'));
  const conflict = await legacyUpload(`${url}/alice/prod/`, alice, { path: altered, name: 'wh-demo-core', version: '1.0.0' });
  assert.equal(conflict.status, 409, describeResponse(conflict));
  const same = await legacyUpload(`${url}/alice/prod/`, alice, { path: wheel, name: 'wh-demo-core', version: '1.0.0' });
  assert.equal(same.status, 200, describeResponse(same));
  const links = await versionLinks(url, '/alice/prod/wh-demo-core/1.0.0');
  assert.equal(links.find((l) => l.href.endsWith('.whl'))?.hashes.sha256, shaOf('wh_demo_core-1.0.0-py3-none-any.whl'));
}));
