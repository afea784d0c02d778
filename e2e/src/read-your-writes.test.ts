// Read-your-writes through the proxy (issue 4): an upload through the proxy, then an immediate read
// through the proxy — which prefers replicas — finds the new release every time. 100 repetitions
// of: a new hand-made sdist version uploaded with the legacy upload API, the project's simple page
// read at once (PEP 691 JSON and PEP 503 HTML alternately), and every 10th time a real
// `pip download --no-deps` of exactly that version.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiClient, createIndex, createUser, debianWheels, describeResponse, distNameVersion, fetchPage, htmlLinks,
  legacyUpload, PEP691_JSON, pipDownload, resultOf, type Pep691Project,
} from './harness.js';
import { buildSdist, LoopbackCluster, withClusterLogs } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'ryw-root-secret';
const USER = 'ryw';
const PASSWORD = 'ryw-e2e-pw';
const INDEX = `${USER}/dev`;
const PROJECT = 'wh-ryw-demo';
const REPETITIONS = 100;

let cluster: LoopbackCluster | undefined;
let failed = false;
const guarded = (fn: (t: import('node:test').TestContext) => Promise<void>) =>
  withClusterLogs(() => cluster, () => (failed = true), fn);

before(async () => {
  cluster = await LoopbackCluster.start({ label: 'ryw', rootPassword: ROOT_PASSWORD });
  const viaProxy = new ApiClient(cluster.proxy.url);
  await createUser(viaProxy.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(viaProxy.as({ user: USER, password: PASSWORD }), INDEX);
  // setuptools and wheel on the index: pip builds the sdists' metadata under build isolation
  for (const whl of debianWheels().filter((f) => !/\/pip-/.test(f))) {
    const { name, version } = distNameVersion(whl);
    const res = await legacyUpload(`${cluster.proxy.url}/${INDEX}/`, { user: USER, password: PASSWORD }, { path: whl, name, version });
    if (res.status !== 200) throw new Error(`uploading ${whl}: ${describeResponse(res)}`);
  }
}, { timeout: 120_000 });

after(async () => {
  await cluster?.stop(failed);
});

test(`an upload through the proxy is visible to the next read through the proxy (${REPETITIONS} times)`, { timeout: 240_000 }, guarded(async (t) => {
  const c = cluster!;
  const uuids = new Map<string, string>();
  for (const n of [c.master, c.replicaA, c.replicaB]) {
    uuids.set(resultOf<{ uuid: string }>(await n.api.get('/+status')).uuid, n.name);
  }
  const servedBy = new Map<string, number>();
  const work = join(c.root, 'work');
  mkdirSync(work);
  const started = Date.now();
  for (let i = 0; i < REPETITIONS; i++) {
    const version = `1.0.${i}`;
    const sdist = buildSdist(PROJECT, version);
    const up = await legacyUpload(`${c.proxy.url}/${INDEX}/`, { user: USER, password: PASSWORD }, {
      path: sdist.filename, filename: sdist.filename, content: sdist.content, name: PROJECT, version,
    });
    assert.equal(up.status, 200, `repetition ${i}: upload of ${sdist.filename}: ${describeResponse(up)}`);

    const pageUrl = `${c.proxy.url}/${INDEX}/+simple/${PROJECT}/`;
    const json = i % 2 === 0;
    const page = await fetchPage(pageUrl, json ? PEP691_JSON : 'text/html');
    assert.equal(page.status, 200, `repetition ${i}: GET ${pageUrl}: ${page.status} ${page.text.slice(0, 300)}`);
    const node = uuids.get(page.headers.get('x-devpi-uuid') ?? '') ?? `unknown (${page.headers.get('x-devpi-uuid') ?? 'no X-Devpi-Uuid'})`;
    servedBy.set(node, (servedBy.get(node) ?? 0) + 1);
    const names = json ? (JSON.parse(page.text) as Pep691Project).files.map((f) => f.filename) : htmlLinks(page.text).map((l) => l.text);
    assert.ok(
      names.includes(sdist.filename),
      `repetition ${i}: ${sdist.filename} (upload serial ${String(up.serial)}) missing from the page served by ${node} ` +
        `(page serial ${page.headers.get('x-devpi-serial') ?? '?'}); page lists ${names.length} files, last: ${names.slice(-3).join(', ')}`,
    );

    if (i % 10 === 9) {
      const dest = join(work, `dl-${i}`);
      const r = await pipDownload({ indexUrl: `${c.proxy.url}/${INDEX}/+simple/`, requirements: [`${PROJECT}==${version}`], dest, noDeps: true });
      assert.equal(r.code, 0, `repetition ${i}: pip download ${PROJECT}==${version}:\n${r.describe()}`);
      assert.ok(existsSync(join(dest, sdist.filename)), `repetition ${i}: pip saved no ${sdist.filename}:\n${r.describe()}`);
    }
  }
  t.diagnostic(`${REPETITIONS} upload→read rounds in ${Date.now() - started} ms; simple pages served by: ${[...servedBy].map(([k, v]) => `${k} ${v}`).join(', ')}`);
}));
