// TLS end to end (issue 15 part 3): a CA and server certificates made with Debian's openssl; a
// master, a replica and a proxy all serving HTTPS, the proxy and the replica trusting the CA
// (--tls-ca) for their own requests. Real twine uploads and real pip installs with --cert through
// the proxy, the replica tails its master over HTTPS, links in pages are https, a SIGHUP with a new
// certificate is picked up by the next TLS client, devpi's PUSH method goes through over TLS, a broken one is refused and logged, and the
// master's plain HTTP port answers 308 to https.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'undici';
import { buildFixture, CLIENT_TEST_TIMEOUT_MS, createIndex, createUser, fixtureName, fixtureVersion, htmlLinks, makeVenv, pipInstall, twineUpload } from './harness.js';
import { freePort, issueServerCert, makeTestCa, TestRoot, waitFor, type ServerCert, type TestCa, type WheelhouseProcess } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'root-tls-secret';
const USER = 'alice';
const PASSWORD = 'alice-tls-pw';
const INDEX = `${USER}/dev`;

const testRoot = new TestRoot('tls');
let ca: TestCa;
let nodes: { master: WheelhouseProcess; replica: WheelhouseProcess; proxy: WheelhouseProcess } | undefined;
let redirectPort = 0;
/** The proxy's live certificate files (SIGHUP re-reads them). */
let proxyFiles: ServerCert;
let work = '';
const cluster = () => {
  assert.ok(nodes, 'the cluster did not start (see the before hook)');
  return nodes;
};
const guarded = (fn: Parameters<TestRoot['guarded']>[0]) => testRoot.guarded(fn);

/** `--tls-cert F --tls-key K` of a certificate. */
const tlsArgs = (c: ServerCert): string[] => ['--tls-cert', c.certFile, '--tls-key', c.keyFile];

/** Serial number and SHA-256 fingerprint of the certificate a fresh TLS connection to `port` is shown. */
function presented(port: number): Promise<{ serial: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(ca.certFile) }, () => {
      const c = socket.getPeerCertificate();
      socket.end();
      resolve({ serial: c.serialNumber, fingerprint: c.fingerprint256 });
    });
    socket.once('error', reject);
  });
}

/** The serial of a certificate file, as openssl and Node print it (upper-case hex). */
async function fileSerial(file: string): Promise<string> {
  const { X509Certificate } = await import('node:crypto');
  return new X509Certificate(readFileSync(file)).serialNumber;
}

before(async () => {
  const pki = testRoot.dir('pki');
  mkdirSync(pki);
  ca = await makeTestCa(pki);
  const [masterCert, replicaCert, proxyCert] = [await issueServerCert(ca, 'master'), await issueServerCert(ca, 'replica'), await issueServerCert(ca, 'proxy')];
  // the proxy's files are copies SIGHUP will find replaced
  proxyFiles = { certFile: join(pki, 'proxy-live.pem'), keyFile: join(pki, 'proxy-live.key') };
  copyFileSync(proxyCert.certFile, proxyFiles.certFile);
  copyFileSync(proxyCert.keyFile, proxyFiles.keyFile);
  redirectPort = await freePort('127.0.0.1');
  const master = await testRoot.startMaster('master', ROOT_PASSWORD, { tlsCa: ca.certFile, args: [...tlsArgs(masterCert), '--http-redirect-port', String(redirectPort)] });
  const replica = await testRoot.startReplica('replica', master, { tlsCa: ca.certFile, args: [...tlsArgs(replicaCert), '--tls-ca', ca.certFile] });
  const proxy = await testRoot.proxy('proxy', master, [replica], { tlsCa: ca.certFile, logLevel: 'info', args: [...tlsArgs(proxyFiles), '--tls-ca', ca.certFile] }).start();
  nodes = { master, replica, proxy };
  work = testRoot.dir('work');
  mkdirSync(work);
  await createUser(proxy.api.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(proxy.api.as({ user: USER, password: PASSWORD }), INDEX);
}, { timeout: 180_000 });

after(async () => {
  await testRoot.cleanup({ graceful: true });
});

test('every node serves HTTPS only: the URLs are https and a client that does not trust the CA is refused', guarded(async () => {
  const { master, replica, proxy } = cluster();
  for (const n of [master, replica, proxy]) {
    assert.match(n.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await n.api.get('/+status')).status, 200, `${n.name} over https`);
    await assert.rejects(fetch(`${n.url}/+status`), `${n.name}: an untrusting client is refused`);
  }
  // the replica's status names its master by its https URL
  assert.equal((await replica.status())['master-url'], master.url);
}));

test('twine uploads with --cert through the proxy; the replica tails its master over HTTPS and catches up', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  const { master, replica, proxy } = cluster();
  const fx = await buildFixture();
  const r = await twineUpload({ repositoryUrl: `${proxy.url}/${INDEX}/`, user: USER, password: PASSWORD, files: [fx.sdist, fx.wheel], cert: ca.certFile });
  assert.equal(r.code, 0, r.describe());
  const head = await master.api.statusSerial();
  await waitFor(async () => ((await replica.api.statusSerial()) >= head ? true : undefined), { timeoutMs: 60_000, what: `replica at the master's serial ${head}` });
  assert.equal((await replica.api.get(`/${INDEX}/${fixtureName}/${fixtureVersion}`)).status, 200, 'the release reached the replica');
}));

test("devpi-client's PUSH method works over TLS through the proxy", { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  const { proxy } = cluster();
  await createIndex(proxy.api.as({ user: USER, password: PASSWORD }), `${USER}/prod`);
  const res = await request(`${proxy.url}/${INDEX}`, {
    method: 'PUSH',
    dispatcher: proxy.dispatcher!,
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
    body: JSON.stringify({ name: fixtureName, version: fixtureVersion, targetindex: `${USER}/prod` }),
  });
  const text = await res.body.text();
  assert.equal(res.statusCode, 200, text);
  assert.equal((await proxy.api.get(`/${USER}/prod/${fixtureName}/${fixtureVersion}`)).status, 200, 'the release is in the target');
}));

test('pip installs with --cert through the proxy, and every link in the pages is https', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  const { proxy } = cluster();
  const page = await proxy.api.get(`/${INDEX}/+simple/${fixtureName}/`, { headers: { Accept: 'text/html' } });
  assert.equal(page.status, 200, page.text);
  const links = htmlLinks(page.text);
  assert.ok(links.length >= 2, page.text);
  for (const l of links) assert.match(new URL(l.href, `${proxy.url}/${INDEX}/+simple/${fixtureName}/`).toString(), /^https:\/\//, l.href);
  const json = await proxy.api.get(`/${INDEX}/${fixtureName}`);
  assert.match(json.text, /"https:\/\/127\.0\.0\.1:\d+\//, 'the JSON view links over https');
  assert.doesNotMatch(json.text, /"http:\/\//, 'no plain http links');
  const venv = await makeVenv(join(work, 'venv'));
  const installed = await pipInstall(venv, { indexUrl: `${proxy.url}/${INDEX}/+simple/`, requirements: [fixtureName], extraArgs: ['--cert', ca.certFile] });
  assert.equal(installed.code, 0, installed.describe());
  assert.ok(installed.installed.length > 0, installed.describe());
  for (const item of installed.installed) assert.ok(item.download_info.url.startsWith(`${proxy.url}/`), `${item.metadata.name} from ${item.download_info.url}`);
}));

test('the master answers 308 to https on its plain HTTP port, keeping path and query', guarded(async () => {
  const { master } = cluster();
  const res = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: redirectPort, path: `/${INDEX}/+simple/?x=1`, headers: { host: `127.0.0.1:${redirectPort}` } }, (r) => {
      r.resume();
      resolve({ status: r.statusCode ?? 0, location: r.headers.location });
    }).once('error', reject).end();
  });
  assert.deepEqual(res, { status: 308, location: `${master.url}/${INDEX}/+simple/?x=1` });
}));

test('SIGHUP makes the proxy present a new certificate to new clients; a broken one is refused and the old one stays', guarded(async () => {
  const { proxy } = cluster();
  const before = await presented(proxy.port);
  assert.equal(before.serial, await fileSerial(proxyFiles.certFile));
  const next = await issueServerCert(ca, 'proxy-next');
  const nextSerial = await fileSerial(next.certFile);
  assert.notEqual(nextSerial, before.serial);
  copyFileSync(next.keyFile, proxyFiles.keyFile);
  copyFileSync(next.certFile, proxyFiles.certFile);
  process.kill(proxy.pid!, 'SIGHUP'); // the process this test started, by its PID
  const after = await waitFor(async () => {
    const p = await presented(proxy.port);
    return p.serial === nextSerial ? p : undefined;
  }, { timeoutMs: 20_000, what: 'the new certificate presented' });
  assert.notEqual(after.fingerprint, before.fingerprint);
  await waitFor(() => (/TLS certificate reloaded/.test(proxy.log()) ? true : undefined), { timeoutMs: 10_000, what: 'the reload log line' });
  assert.equal((await proxy.api.get('/+status')).status, 200, 'the proxy still serves');
  // a certificate without its key: the reload fails, is logged, and the working certificate stays
  writeFileSync(proxyFiles.certFile, 'not a certificate\n');
  process.kill(proxy.pid!, 'SIGHUP');
  await waitFor(() => (/TLS certificate reload failed/.test(proxy.log()) ? true : undefined), { timeoutMs: 10_000, what: 'the failed-reload log line' });
  assert.match(proxy.log(), /does not hold a PEM certificate/);
  assert.equal((await presented(proxy.port)).serial, nextSerial);
  assert.ok(proxy.running, 'the proxy kept running');
}));
