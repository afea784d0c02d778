// issue 13: real pip (--isolated, a fresh venv) installing through the Wheelhouse proxy receives its
// simple pages gzip-encoded — pip sends `Accept-Encoding: gzip, deflate`, the replica compresses the
// page once per serial, the proxy passes the coded bytes on untouched — and installs. A recording
// proxy in front of the Wheelhouse proxy sees what pip sent and what came back; the page is made
// larger than the compression threshold (12 releases) so the node must compress it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ApiClient, createIndex, createUser, describeResponse, legacyUpload, makeVenv, pipInstall, RecordingProxy, simpleUrl } from './harness.js';
import { buildWheel, LoopbackCluster, waitFor, withClusterLogs } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'gzip-root-secret';
const USER = 'gz';
const PASSWORD = 'gzip-e2e-pw';
const INDEX = `${USER}/dev`;
const PROJECT = 'wh-gzip-demo';
const VERSIONS = Array.from({ length: 12 }, (_, i) => `1.${i}`);

let cluster: LoopbackCluster | undefined;
let failed = false;
const guarded = (fn: (t: import('node:test').TestContext) => Promise<void>) => withClusterLogs(() => cluster, () => (failed = true), fn);

before(async () => {
  cluster = await LoopbackCluster.start({ label: 'pip-gzip', rootPassword: ROOT_PASSWORD });
  const viaProxy = new ApiClient(cluster.proxy.url);
  await createUser(viaProxy.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(viaProxy.as({ user: USER, password: PASSWORD }), INDEX);
  let serial = 0;
  for (const v of VERSIONS) {
    const whl = buildWheel(PROJECT, v);
    const up = await legacyUpload(`${cluster.proxy.url}/${INDEX}/`, { user: USER, password: PASSWORD }, { path: whl.filename, filename: whl.filename, content: whl.content, name: PROJECT, version: v });
    if (up.status !== 200) throw new Error(`upload ${whl.filename}: ${describeResponse(up)}`);
    serial = Math.max(serial, up.serial ?? 0);
  }
  for (const r of [cluster.replicaA, cluster.replicaB]) {
    await waitFor(async () => ((await r.api.get('/+api')).serial ?? -1) >= serial, { timeoutMs: 60_000, what: `${r.name} to reach serial ${serial}` });
  }
}, { timeout: 240_000 });

after(async () => {
  await cluster?.stop(failed);
});

test('pip installing through the proxy receives gzip-encoded simple pages and installs', { timeout: 300_000 }, guarded(async () => {
  const c = cluster!;
  const recorder = await RecordingProxy.start(c.proxy.port);
  try {
    const venv = await makeVenv(join(c.testRoot.root, 'venv'));
    const r = await pipInstall(venv, { indexUrl: simpleUrl(recorder.url, INDEX), requirements: [`${PROJECT}==1.11`] });
    assert.equal(r.code, 0, r.describe());
    assert.deepEqual(r.installed.map((i) => `${i.metadata.name}==${i.metadata.version}`), [`${PROJECT}==1.11`]);
    const pages = recorder.simpleExchanges().filter((e) => e.path.includes(`/+simple/${PROJECT}`) && e.status === 200);
    assert.ok(pages.length > 0, `pip fetched no project page through the proxy: ${JSON.stringify(recorder.exchanges)}`);
    for (const e of pages) {
      assert.match(e.clientAcceptEncoding ?? '', /\bgzip\b/, `pip did not offer gzip: Accept-Encoding ${String(e.clientAcceptEncoding)}`);
      // pip offers br only when the brotli module is importable; a fresh venv has none
      const expected = /\bbr\b/.test(e.clientAcceptEncoding ?? '') ? /^(br|gzip)$/ : /^gzip$/;
      assert.match(e.contentEncoding ?? 'identity', expected, `the simple page came back ${String(e.contentEncoding ?? 'identity')} although pip accepted ${String(e.clientAcceptEncoding)}`);
    }
    // release files are never re-encoded
    const files = recorder.exchanges.filter((e) => e.path.endsWith('.whl') && e.status === 200);
    assert.ok(files.length > 0, 'pip downloaded no wheel through the proxy');
    for (const e of files) assert.equal(e.contentEncoding, undefined, `${e.path} was sent with Content-Encoding ${String(e.contentEncoding)}`);
  } finally {
    await recorder.close();
  }
}));
