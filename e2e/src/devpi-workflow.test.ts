// The release workflow of a team with the real `devpi` client (devpi-client 7.2 from
// ../shared/tools/devpi), through the proxy of a fresh loopback cluster and, in the same test,
// against devpi-server 6.19.1 (a differential check: the same steps must pass on both):
// `use`, `user -c`, `login`, `index -c` a volatile `dev` inheriting a non-volatile `prod`
// inheriting a mirror of a local upstream, `upload` of a built project with a docs zip, `list`,
// `getjson`, `push` to prod, `index … acl_upload+=`, `test` (Debian's tox; setuptools and wheel
// served by the local upstream from Debian's wheels), `remove`, `refresh`, `logoff`. Every step's
// exit code is asserted, and what the server then holds, read back over its JSON API. The venv is
// the one devpi-functional.test.ts uses (WHEELHOUSE_DEVPI_VENV, default /tmp/devpi-venv); without
// it the test skips, saying why.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, LoopbackCluster, run, TestRoot, waitFor, notYet, type RunResult } from '@wheelhouse/testing';
import { FakeUpstream } from './local-upstream.js';

const VENV = process.env['WHEELHOUSE_DEVPI_VENV'] ?? '/tmp/devpi-venv';
const DEBIAN_WHEELS = '/usr/share/python-wheels';
const STEP_TIMEOUT_MS = 5 * 60_000;

let skipReason: string | undefined;
let upstream: FakeUpstream;
const work = new TestRoot('devpi-workflow');

before(async () => {
  for (const tool of ['devpi', 'devpi-server', 'devpi-init', 'python']) {
    if (!existsSync(join(VENV, 'bin', tool))) skipReason = `${join(VENV, 'bin', tool)} is missing (run ../shared/tools/devpi/install.sh ${VENV}, as .ci/run does)`;
  }
  const wheels = existsSync(DEBIAN_WHEELS) ? readdirSync(DEBIAN_WHEELS).filter((f) => /^(setuptools|wheel)-.*\.whl$/.test(f)) : [];
  if (wheels.length < 2) skipReason ??= `Debian's setuptools and wheel wheels are not in ${DEBIAN_WHEELS} (apt-get install python3-setuptools-whl python3-wheel-whl)`;
  if (!existsSync('/usr/bin/tox')) skipReason ??= "Debian's tox is not installed (apt-get install tox)";
  upstream = await FakeUpstream.start('html');
  for (const f of wheels) {
    const name = f.split('-')[0]!;
    upstream.setProject(name, [...(upstream.projects.get(name) ?? []), { filename: f, content: readFileSync(join(DEBIAN_WHEELS, f)) }]);
  }
  await upstream.addWheels('upstream-only', ['0.1']);
});

after(async () => {
  await upstream?.stop();
  await work.cleanup({ graceful: true });
});

/** A small setuptools project with a tox.ini whose test imports it; built once (sdist, wheel) plus a docs zip. */
async function buildProject(dir: string): Promise<string> {
  mkdirSync(join(dir, 'wfproj'), { recursive: true });
  writeFileSync(join(dir, 'setup.py'), "from setuptools import setup\nsetup(name='wfproj', version='1.0', packages=['wfproj'])\n");
  writeFileSync(join(dir, 'wfproj', '__init__.py'), "ANSWER = 42\n");
  writeFileSync(join(dir, 'MANIFEST.in'), 'include tox.ini\n'); // devpi test reads tox.ini from the sdist
  writeFileSync(join(dir, 'tox.ini'), '[tox]\nenvlist = py\n\n[testenv]\ncommands = python -c "import wfproj; assert wfproj.ANSWER == 42"\n');
  const built = await run(join(VENV, 'bin', 'python'), ['-m', 'build', '--no-isolation', '--outdir', 'dist', '.'], { cwd: dir, timeoutMs: STEP_TIMEOUT_MS, env: toolEnv() });
  assert.equal(built.code, 0, built.describe());
  const zip = await run(join(VENV, 'bin', 'python'), ['-c', "import zipfile; z = zipfile.ZipFile('dist/wfproj-1.0.doc.zip', 'w'); z.writestr('index.html', '<h1>wfproj docs</h1>'); z.close()"], { cwd: dir, timeoutMs: 60_000 });
  assert.equal(zip.code, 0, zip.describe());
  return join(dir, 'dist');
}

function toolEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(VENV, 'bin')}:/usr/bin:/bin`, PIP_CONFIG_FILE: '/dev/null', PYTHONDONTWRITEBYTECODE: '1', SETUPTOOLS_USE_DISTUTILS: 'stdlib' };
  delete env['PIP_FIND_LINKS'];
  delete env['PIP_INDEX_URL'];
  return env;
}

/** The steps against one server at `url` (root's password empty); `label` names it in messages. */
async function releaseWorkflow(t: TestContext, url: string, label: string, dist: string): Promise<void> {
  const clientdir = work.dir(`client-${label}`);
  const devpi = async (...args: string[]): Promise<RunResult> => {
    const res = await run(join(VENV, 'bin', 'devpi'), ['--clientdir', clientdir, ...args], { timeoutMs: STEP_TIMEOUT_MS, cwd: join(dist, '..'), env: toolEnv() });
    t.diagnostic(`${label}: devpi ${args.join(' ')} → ${res.code}`);
    return res;
  };
  const ok = async (...args: string[]): Promise<RunResult> => {
    const res = await devpi(...args);
    assert.equal(res.code, 0, `${label}: devpi ${args.join(' ')}\n${res.describe()}`);
    return res;
  };
  const getJson = async (path: string): Promise<{ status: number; result: Record<string, unknown> }> => {
    const res = await fetch(`${url}${path}`, { headers: { Accept: 'application/json' } });
    const body = res.status === 200 ? ((await res.json()) as { result: Record<string, unknown> }) : (await res.arrayBuffer(), { result: {} });
    return { status: res.status, result: body.result };
  };
  const links = async (path: string): Promise<Array<{ rel: string; href: string }>> =>
    ((await getJson(path)).result['+links'] as Array<{ rel: string; href: string }> | undefined) ?? [];

  await ok('use', url);
  await ok('login', 'root', '--password', '');
  await ok('index', '-c', 'root/upstream', 'type=mirror', `mirror_url=${upstream.simpleUrl}`);
  await ok('user', '-c', 'alice', 'password=alice-pw', 'email=alice@example.org');
  await ok('user', '-c', 'bob', 'password=bob-pw');
  assert.equal((await getJson('/alice')).result['email'], 'alice@example.org', `${label}: alice created`);
  await ok('login', 'alice', '--password', 'alice-pw');
  await ok('index', '-c', 'prod', 'bases=root/upstream', 'volatile=False');
  await ok('index', '-c', 'dev', 'bases=alice/prod');
  assert.deepEqual((await getJson('/alice/dev')).result['bases'], ['alice/prod']);
  assert.equal((await getJson('/alice/prod')).result['volatile'], false);
  await ok('use', 'alice/dev');

  const files = readdirSync(dist).map((f) => join(dist, f));
  await ok('upload', ...files);
  const uploaded = await links('/alice/dev/wfproj/1.0');
  assert.deepEqual(uploaded.map((l) => l.rel).sort(), ['doczip', 'releasefile', 'releasefile'], `${label}: sdist, wheel and docs in alice/dev`);

  const listed = await ok('list', 'wfproj');
  assert.match(listed.stdout, /wfproj-1\.0-py3-none-any\.whl/, `${label}: devpi list shows the wheel`);
  const upstreamListed = await ok('list', 'upstream-only');
  assert.match(upstreamListed.stdout, /upstream_only-0\.1-py3-none-any\.whl/, `${label}: devpi list shows a mirrored release`);
  const json = await ok('getjson', '/alice/dev/wfproj');
  assert.ok('1.0' in (JSON.parse(json.stdout) as { result: Record<string, unknown> }).result, `${label}: getjson has 1.0`);

  await ok('push', 'wfproj==1.0', 'alice/prod');
  assert.ok((await links('/alice/prod/wfproj/1.0')).some((l) => l.rel === 'releasefile'), `${label}: pushed to alice/prod`);

  await ok('index', 'alice/dev', 'acl_upload+=bob');
  assert.deepEqual((await getJson('/alice/dev')).result['acl_upload'], ['alice', 'bob']);

  // tox installs the sdist in a fresh virtualenv; pip builds it with setuptools and wheel from the
  // index, that is from the mirror of the local upstream
  await ok('test', 'wfproj==1.0');
  assert.ok((await links('/alice/dev/wfproj/1.0')).some((l) => l.rel === 'toxresult'), `${label}: devpi test attached a tox result`);

  await ok('remove', '-y', 'wfproj==1.0');
  // devpi-server keeps the project name with no versions (200 `{}`); Wheelhouse drops a project with its last release (404)
  const own = await getJson('/alice/dev/wfproj?ignore_bases');
  assert.ok(own.status === 404 || (own.status === 200 && !('1.0' in own.result)), `${label}: 1.0 removed from alice/dev (${own.status} ${JSON.stringify(own.result)})`);
  assert.equal((await getJson('/alice/prod/wfproj/1.0')).status, 200, `${label}: alice/prod keeps it`);

  const asked = upstream.pageRequests('upstream-only');
  await ok('refresh', 'upstream-only');
  assert.ok(upstream.pageRequests('upstream-only') > asked, `${label}: refresh asked upstream again`);

  await ok('logoff');
  const anon = await devpi('index', '-c', 'after-logoff');
  assert.notEqual(anon.code, 0, `${label}: after logoff an index cannot be created`);
}

let cluster: LoopbackCluster | undefined;
after(() => cluster?.stop());
let dist: string | undefined;

test('the release workflow with the devpi client through the proxy of a Wheelhouse cluster', { timeout: 20 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  dist ??= await buildProject(work.dir('project'));
  cluster = await LoopbackCluster.start({ label: 'devpi-workflow', rootPassword: '' });
  try {
    await releaseWorkflow(t, cluster.proxy.url, 'wheelhouse', dist);
  } catch (err) {
    cluster.diagnose(t);
    await cluster.stop(true);
    cluster = undefined;
    throw err;
  }
  await cluster.stop();
  cluster = undefined;
});

let reference: ChildProcess | undefined;
after(() => reference?.kill('SIGKILL'));

test('the same release workflow against devpi-server 6.19.1 (the reference)', { timeout: 20 * 60_000 }, async (t) => {
  if (skipReason) return t.skip(skipReason);
  dist ??= await buildProject(work.dir('project'));
  const serverdir = work.dir('devpi-server');
  const init = await run(join(VENV, 'bin', 'devpi-init'), ['--serverdir', serverdir, '--no-root-pypi'], { timeoutMs: STEP_TIMEOUT_MS, env: toolEnv() });
  assert.equal(init.code, 0, init.describe());
  const port = await freePort();
  reference = spawn(join(VENV, 'bin', 'devpi-server'), ['--serverdir', serverdir, '--host', '127.0.0.1', '--port', String(port)], { env: toolEnv(), stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(`${url}/+api`).catch(() => undefined))?.status === 200 ? true : notYet('devpi-server not answering /+api')), {
    what: 'devpi-server ready',
    timeoutMs: 3 * 60_000,
  });
  await releaseWorkflow(t, url, 'devpi-server', dist);
});
