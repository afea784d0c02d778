// devpi's own functional tests of its client (`client/testing/test_functional.py --live-url`, from
// ../shared/tools/devpi, devpi-client 7.2) run unchanged against a fresh Wheelhouse master, a fresh
// replica of one, and the proxy of a fresh loopback cluster (master, two replicas, proxy), each
// with root's password empty and root/pypi present as `wheelhouse init`
// leaves them (devpi-init's defaults): devpi-server 6.19.1 gives 56 passed, 2 skipped, and so must
// Wheelhouse. The venv comes from WHEELHOUSE_DEVPI_VENV (default /tmp/devpi-venv); when it is
// missing, ../shared/tools/devpi/install.sh is run once; when that fails too, the tests skip.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LoopbackCluster, repoRoot, run, TestRoot, type RunResult } from '@wheelhouse/testing';

const VENV = process.env['WHEELHOUSE_DEVPI_VENV'] ?? '/tmp/devpi-venv';
const TOOLS = join(repoRoot, '..', 'shared', 'tools', 'devpi');
const CLIENT_DIR = join(TOOLS, 'client');
/** What devpi-server 6.19.1 gives with this client and test file. */
const EXPECTED = { passed: 56, skipped: 2 };
/** One pytest run: 35 s on an idle machine, several minutes on a loaded one (argon2 in the second devpi-server). */
const RUN_TIMEOUT_MS = 12 * 60_000;

let skipReason: string | undefined;

/** The venv's python, installing the venv first when it is missing; a skip reason when that fails. */
async function findVenv(): Promise<string | undefined> {
  const python = join(VENV, 'bin', 'python');
  const ready = (): boolean => existsSync(python) && existsSync(join(VENV, 'bin', 'devpi')) && existsSync(join(VENV, 'bin', 'devpi-server'));
  if (ready()) return undefined;
  const installer = join(TOOLS, 'install.sh');
  if (!existsSync(installer)) return `devpi tools not found at ${TOOLS}`;
  const res = await run('bash', [installer, VENV], { timeoutMs: 10 * 60_000, cwd: repoRoot });
  if (res.code !== 0 || !ready()) return `devpi could not be installed into ${VENV}: ${res.describe().slice(0, 2000)}`;
  return undefined;
}

before(async () => {
  skipReason = await findVenv();
}, { timeout: 11 * 60_000 });

/** pytest's counts from its last summary line (`== 56 passed, 2 skipped, 1 warning in 33.1s ==`). */
function pytestCounts(output: string): Record<string, number> {
  const lines = output.trim().split('\n').filter((l) => /^=+ .* in [\d.]+s/.test(l));
  const last = lines[lines.length - 1] ?? '';
  const counts: Record<string, number> = {};
  for (const m of last.matchAll(/(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|warnings?|deselected)/g)) {
    counts[m[2]!.replace(/s$/, '').replace(/^error$/, 'errors').replace(/^warning$/, 'warnings')] = Number(m[1]);
  }
  return counts;
}

/**
 * The one test that starts a devpi-server of its own (`test_switch_preserves_auth`), when that
 * server, not the one under test, did not come up within devpi's fixed 60 s (conftest.py
 * `wait_for_port`): on a loaded machine it does not. Such a run is repeated for that test alone.
 */
const OWN_SERVER_TEST = 'test_switch_preserves_auth';
function ownServerTimedOut(res: RunResult): boolean {
  const bad = res.stdout.split('\n').filter((l) => /^(FAILED|ERROR) /.test(l));
  return bad.length === 1 && bad[0]!.includes(OWN_SERVER_TEST) && res.stdout.includes("didn't become accessible");
}

/** Runs devpi's functional tests against `url`; the run of {@link OWN_SERVER_TEST} is repeated once when its own server timed out. */
async function runFunctional(url: string): Promise<RunResult> {
  const res = await runPytest(url);
  if (!ownServerTimedOut(res)) return res;
  const again = await runPytest(url, ['-k', OWN_SERVER_TEST]);
  const a = pytestCounts(res.stdout);
  const b = pytestCounts(again.stdout);
  // the first run's counts with that one test's error replaced by the repeat's outcome
  const merged = { ...a, errors: (a['errors'] ?? 1) - 1 + (b['errors'] ?? 0), passed: (a['passed'] ?? 0) + (b['passed'] ?? 0), failed: (a['failed'] ?? 0) + (b['failed'] ?? 0) };
  const line = `== ${Object.entries(merged).map(([k, v]) => `${v} ${k}`).join(', ')} in 0s ==`;
  return { ...again, stdout: `${res.stdout}\n--- ${OWN_SERVER_TEST} repeated (its own devpi-server did not start in 60 s) ---\n${again.stdout}\n${line}\n` };
}

/** Runs devpi's functional tests against `url` as the README of ../shared/tools/devpi says. */
function runPytest(url: string, extra: readonly string[] = []): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(VENV, 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    SETUPTOOLS_USE_DISTUTILS: 'stdlib',
    PIP_CONFIG_FILE: '/dev/null',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  delete env['PIP_FIND_LINKS'];
  // the per-test timeout is raised from tox.ini's 60 s: test_switch_preserves_auth starts a second
  // devpi-server, which takes longer than that on a loaded machine
  return run(join(VENV, 'bin', 'python'), ['-m', 'pytest', 'testing/test_functional.py', '-p', 'no:cacheprovider', '-rfEs', '--timeout=300', '--live-url', `${url}/`, ...extra], {
    timeoutMs: RUN_TIMEOUT_MS,
    cwd: CLIENT_DIR,
    env,
  });
}

function assertExpected(t: TestContext, res: RunResult, where: string): void {
  const counts = pytestCounts(res.stdout);
  t.diagnostic(`${where}: ${JSON.stringify(counts)}`);
  const failures = res.stdout.split('\n').filter((l) => /^(FAILED|ERROR) /.test(l));
  assert.deepEqual(
    { passed: counts['passed'] ?? 0, skipped: counts['skipped'] ?? 0, failed: counts['failed'] ?? 0, errors: counts['errors'] ?? 0 },
    { ...EXPECTED, failed: 0, errors: 0 },
    `devpi's functional tests against ${where}:\n${failures.join('\n')}\n${res.summary()}\n${res.stdout.slice(-6000)}\n${res.stderr.slice(-2000)}`,
  );
}

test('pytestCounts reads pytest\'s summary line', () => {
  assert.deepEqual(pytestCounts('x\n===== 55 passed, 2 skipped, 1 warning, 1 error in 185.86s (0:03:05) =====\n'), { passed: 55, skipped: 2, warnings: 1, errors: 1 });
  assert.deepEqual(pytestCounts('== 15 failed, 41 passed, 2 skipped in 32.73s =='), { failed: 15, passed: 41, skipped: 2 });
  assert.deepEqual(pytestCounts('no summary'), {});
  assert.deepEqual(pytestCounts('== 55 passed, 2 skipped, 0 errors, 0 failed, 1 warnings in 0s =='), { passed: 55, skipped: 2, errors: 0, failed: 0, warnings: 1 });
});

// one run at a time, each on its own nodes, stopped before the next (the runs are CPU-bound)
const masterRoot = new TestRoot('devpi-functional-master');
after(() => masterRoot.cleanup({ graceful: true }));
test('devpi functional tests against a fresh master: 56 passed, 2 skipped', { timeout: RUN_TIMEOUT_MS + 60_000 }, masterRoot.guarded(async (t) => {
  if (skipReason) return t.skip(skipReason);
  const master = await masterRoot.startMaster('master', '');
  const res = await runFunctional(master.url);
  await masterRoot.cleanup({ graceful: true });
  assertExpected(t, res, `the master ${master.url}`);
}));

const replicaRoot = new TestRoot('devpi-functional-replica');
after(() => replicaRoot.cleanup({ graceful: true }));
test('devpi functional tests against a fresh replica: 56 passed, 2 skipped', { timeout: RUN_TIMEOUT_MS + 120_000 }, replicaRoot.guarded(async (t) => {
  if (skipReason) return t.skip(skipReason);
  const master = await replicaRoot.startMaster('master', '');
  const replica = await replicaRoot.startReplica('replica', master);
  const res = await runFunctional(replica.url);
  await replicaRoot.cleanup({ graceful: true });
  assertExpected(t, res, `the replica ${replica.url}`);
}));

let cluster: LoopbackCluster | undefined;
after(() => cluster?.stop());
test('devpi functional tests through the proxy of a fresh cluster: 56 passed, 2 skipped', { timeout: RUN_TIMEOUT_MS + 180_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  cluster = await LoopbackCluster.start({ label: 'devpi-functional-proxy', rootPassword: '' });
  let res: RunResult;
  try {
    res = await runFunctional(cluster.proxy.url);
  } catch (err) {
    cluster.diagnose(t);
    throw err;
  }
  const passed = pytestCounts(res.stdout)['failed'] === undefined;
  if (!passed) cluster.diagnose(t);
  await cluster.stop(!passed);
  cluster = undefined;
  assertExpected(t, res, 'the proxy in front of a master and two replicas');
});
