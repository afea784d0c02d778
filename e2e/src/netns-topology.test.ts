// The multi-host deployment of issue 4 without containers: the hosts are Linux network namespaces.
// The topology is the one docker-compose.yml describes (keep the two in step):
//   host A (namespace …-a, 169.254.77.11): master :3142 (compose: hosta-master) and replica :3143
//                                          (hosta-replica)
//   host B (namespace …-b, 169.254.77.12): replica :3143 (hostb-replica), tailing host A's master
//   front  (namespace …-p, 169.254.77.13): proxy :3141 (proxy), --master A:3142 --replica A:3143
//                                          --replica B:3143
// Each namespace has one veth link to a bridge in the root namespace (169.254.77.1, link-local, so
// nothing clashes with real networks); pip and the test talk to the proxy over that bridge. Every
// node runs as `ip netns exec NS node bin/wheelhouse … --host <its host's address>`.
// The drill: pip installs through the proxy; then host A is cut off (`ip link set <A's veth> down`:
// master and replica A vanish without a reset, like a dead machine); installs keep working through
// host B, the proxy marks A's backends down, an upload gets the clear 503; host A comes back and an
// upload succeeds again. Skipped (with the reason) where namespaces cannot be created.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiClient, buildFixture, createIndex, createUser, describeResponse, fixtureName, legacyUpload, makeVenv, messageOf,
  pipInstall, run, twineUpload, wheelhouseBin, type PipInstallResult, type Venv,
} from './harness.js';
import { BridgedHosts } from './bridged-hosts.js';
import { buildSdist, proxyBackends, type ProxyBackendStatus, waitProxyBackends, WheelhouseProcess } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'netns-root-secret';
const USER = 'multi';
const PASSWORD = 'multi-e2e-pw';
const INDEX = `${USER}/dev`;
const SUBNET = '169.254.77';
/** Short per-run id: interface names must fit in 15 characters. */
const ID = `wh${process.pid % 100000}`;
/** The hosts and the last octet of each one's address. */
const HOSTS = { hostA: 11, hostB: 12, front: 13 } as const;

let skipReason: string | undefined;
let net: BridgedHosts<keyof typeof HOSTS> | undefined;
let root = '';
let failed = false;
const nodes: WheelhouseProcess[] = [];
let master: WheelhouseProcess | undefined;
let proxy: WheelhouseProcess | undefined;
let venv: Venv | undefined;

/** Why namespaces cannot be used here, or undefined when they can (then the network is built). */
async function prepareNamespaces(): Promise<string | undefined> {
  const built = await BridgedHosts.build(SUBNET, ID, HOSTS);
  if ('skip' in built) return built.skip;
  net = built.hosts;
  return undefined;
}

function startNode(name: string, role: 'master' | 'replica' | 'proxy', host: keyof typeof HOSTS, port: number, args: string[]): Promise<WheelhouseProcess> {
  return new WheelhouseProcess({ name, role, logPath: join(root, 'logs', `${name}.log`), args, host: net!.addr[host], port, netns: net!.ns[host] }).start();
}

before(async () => {
  try {
    skipReason = await prepareNamespaces();
  } catch (err) {
    skipReason = `could not build the namespaces: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (skipReason) return;
  root = mkdtempSync(join(tmpdir(), 'wh-e2e-netns-'));
  mkdirSync(join(root, 'logs'));
  const masterDir = join(root, 'hostA-master');
  const init = await run(process.execPath, [wheelhouseBin, 'init', '--datadir', masterDir, '--root-password', ROOT_PASSWORD], { timeoutMs: 60_000 });
  if (init.code !== 0) throw new Error(`wheelhouse init: ${init.describe()}`);
  const secret = join(masterDir, 'secret');
  const masterUrl = `http://${net!.addr.hostA}:3142`;
  master = await startNode('hostA-master', 'master', 'hostA', 3142, ['--datadir', masterDir]);
  nodes.push(master);
  const replicas = await Promise.all([
    startNode('hostA-replica', 'replica', 'hostA', 3143, ['--datadir', join(root, 'hostA-replica'), '--master-url', masterUrl, '--secret-file', secret]),
    startNode('hostB-replica', 'replica', 'hostB', 3143, ['--datadir', join(root, 'hostB-replica'), '--master-url', masterUrl, '--secret-file', secret]),
  ]);
  nodes.push(...replicas);
  proxy = await startNode('proxy', 'proxy', 'front', 3141, ['--master', masterUrl, '--replica', `http://${net!.addr.hostA}:3143`, '--replica', `http://${net!.addr.hostB}:3143`]);
  nodes.push(proxy);
  await waitProxyBackends(proxy.url, { master: true, replica1: true, replica2: true });
  const api = new ApiClient(proxy.url);
  await createUser(api.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(api.as({ user: USER, password: PASSWORD }), INDEX);
  const fx = await buildFixture();
  const up = await twineUpload({ repositoryUrl: `${proxy.url}/${INDEX}/`, user: USER, password: PASSWORD, files: [fx.sdist, fx.wheel] });
  if (up.code !== 0) throw new Error(`twine upload through the proxy: ${up.describe()}`);
  venv = await makeVenv(join(root, 'venv'));
}, { timeout: 240_000 });

after(async () => {
  // our own processes only, by PID (WheelhouseProcess.kill), then our own namespaces and links
  for (const n of [...nodes].reverse()) await n.kill('SIGKILL');
  await net?.teardown();
  if (root && existsSync(root)) {
    if (failed || process.env['WH_E2E_KEEP']) process.stderr.write(`wheelhouse e2e: kept ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  }
});

/** Skips without namespaces; on failure attaches the node logs (and keeps the temp dir unless `todo`). */
function guarded(fn: (t: TestContext) => Promise<void>, todo = false): (t: TestContext) => Promise<void> {
  return async (t) => {
    if (skipReason) {
      t.skip(`network namespaces unavailable: ${skipReason}`);
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      if (todo) throw err;
      failed = true;
      for (const n of nodes) {
        t.diagnostic(`--- ${n.logPath} (last lines) ---`);
        for (const line of n.logTail(30).split('\n')) if (line.trim()) t.diagnostic(line);
      }
      throw err;
    }
  };
}

let installCount = 0;
async function installThroughProxy(t?: TestContext): Promise<PipInstallResult> {
  const target = join(root, `target-${installCount++}`);
  const started = Date.now();
  const r = await pipInstall(venv!, { indexUrl: `${proxy!.url}/${INDEX}/+simple/`, requirements: [fixtureName], extraArgs: ['--target', target, '--retries', '0', '--trusted-host', net!.addr.front], timeoutMs: 90_000 });
  t?.diagnostic(`pip install #${installCount}: exit ${String(r.code)} in ${Date.now() - started} ms`);
  return r;
}

function assertInstalled(r: PipInstallResult, what: string): void {
  assert.equal(r.code, 0, `${what}: pip install failed:\n${r.describe()}`);
  const item = r.installed.find((p) => p.metadata.name === fixtureName);
  assert.ok(item, `${what}: pip did not install ${fixtureName}:\n${r.describe()}`);
  assert.ok(item.download_info.url.startsWith(`${proxy!.url}/`), `${what}: downloaded from ${item.download_info.url}, not through the proxy`);
}

const describeBackends = (list: ProxyBackendStatus[]): string =>
  list.map((b) => `${b.name} usable=${String(b.usable)} up=${String(b.up)} serial=${b.serial} err=${b['last-error'] ?? '-'}`).join('; ');

let versionN = 0;
async function uploadThroughProxy(): Promise<{ res: Awaited<ReturnType<typeof legacyUpload>>; ms: number }> {
  const v = `3.0.${versionN++}`;
  const sdist = buildSdist('wh-netns-demo', v);
  const start = Date.now();
  const res = await legacyUpload(`${proxy!.url}/${INDEX}/`, { user: USER, password: PASSWORD }, {
    path: sdist.filename, filename: sdist.filename, content: sdist.content, name: 'wh-netns-demo', version: v,
  });
  return { res, ms: Date.now() - start };
}

test('pip installs through the proxy in the front namespace, from the hosts A and B', { timeout: 120_000 }, guarded(async (t) => {
  assertInstalled(await installThroughProxy(t), 'all hosts up');
  const list = await proxyBackends(proxy!.url);
  t.diagnostic(describeBackends(list));
  assert.ok(list.every((b) => b.usable), describeBackends(list));
}));

let cutAt = 0;
let firstInstallAfterCut: PipInstallResult | undefined;
let firstInstallMs = 0;
let firstReadAfterCut = 'not run';
let firstReadOk = false;

test('host A cut off: installs keep working through host B, A\'s backends are marked down, uploads get the clear 503', { timeout: 180_000 }, guarded(async (t) => {
  // warm the proxy's keep-alive connections to host A, as steady traffic would
  assertInstalled(await installThroughProxy(t), 'before the cut');
  await net!.cut('hostA');
  cutAt = Date.now();
  // when the proxy stops considering host A's backends, measured from the cut
  const detection = waitProxyBackends(proxy!.url, { master: false, replica1: false, replica2: true }, 60_000).then(
    () => Date.now() - cutAt,
    (err: unknown) => err as Error,
  );
  // a page read and an install started at once, before the health checks noticed (asserted in the next test)
  const readStart = Date.now();
  try {
    const res = await fetch(`${proxy!.url}/${INDEX}/+simple/${fixtureName}/`, { signal: AbortSignal.timeout(15_000) });
    await res.arrayBuffer();
    firstReadAfterCut = `${res.status} after ${Date.now() - readStart} ms`;
    firstReadOk = res.status === 200 && Date.now() - readStart < 10_000;
  } catch (err) {
    firstReadAfterCut = `${err instanceof Error ? err.message : String(err)} after ${Date.now() - readStart} ms`;
  }
  t.diagnostic(`simple page read right after the cut: ${firstReadAfterCut}`);
  const started = Date.now();
  firstInstallAfterCut = await installThroughProxy();
  firstInstallMs = Date.now() - started;
  t.diagnostic(`install started right after the cut: exit ${String(firstInstallAfterCut.code)} in ${firstInstallMs} ms`);

  const detected = await detection;
  if (detected instanceof Error) throw detected;
  t.diagnostic(`the proxy marked host A's backends unusable ${detected} ms after the cut`);
  assert.ok(detected < 10_000, `the proxy took ${detected} ms to mark host A's backends down`);
  for (let i = 0; i < 2; i++) assertInstalled(await installThroughProxy(t), `host A down, install ${i + 1}`);

  const { res, ms } = await uploadThroughProxy();
  assert.equal(res.status, 503, `upload with host A down: ${describeResponse(res)}`);
  assert.ok(ms < 2_000, `the 503 took ${ms} ms`);
  assert.ok(res.headers.get('retry-after'), `503 without Retry-After: ${describeResponse(res)}`);
  assert.match(messageOf(res) ?? '', /master is unavailable/i, describeResponse(res));
}));

test('an install started the moment host A drops off the network succeeds (reads on pooled connections to A fail over)', {
  timeout: 10_000,
}, guarded(async () => {
  assert.ok(firstInstallAfterCut, 'the previous test did not run the install');
  assert.ok(firstReadOk, `a simple page read through the proxy right after the cut: ${firstReadAfterCut} (want 200 within 10 s)`);
  assertInstalled(firstInstallAfterCut, `install started right after the cut (took ${firstInstallMs} ms)`);
}));

test('host A back on the network: the proxy uses it again and uploads succeed', { timeout: 120_000 }, guarded(async () => {
  await net!.heal('hostA');
  await waitProxyBackends(proxy!.url, { master: true, replica1: true, replica2: true }, 30_000);
  const { res } = await uploadThroughProxy();
  assert.equal(res.status, 200, `upload after host A came back: ${describeResponse(res)}`);
  assertInstalled(await installThroughProxy(), 'host A back');
}));
