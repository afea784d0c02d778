// A real project with its dependency closure: Flask and the six projects it needs on Python 3.11
// (blinker, click, itsdangerous, jinja2, markupsafe, werkzeug), taken from the local wheel tree this
// machine's pip configuration names (WHEELHOUSE_TEST_PYPI_TREE, else `pip config list`'s global.extra-index-url: see localPypiTree()),
// uploaded with twine and installed with pip's resolver from Wheelhouse alone. Skipped where the tree
// is absent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CLIENT_TEST_TIMEOUT_MS, createIndex, createUser, fileSha256, makeVenv, pipDownload, pipInstall,
  projectListJson, pythonEval, simpleUrl, supportedWheelTags, twineUpload, wheelMatchesTags,
} from './harness.js';
import { LOCAL_PYPI_TREE_SKIP, localPypiTree, TestRoot, type WheelhouseProcess } from '@wheelhouse/testing';

const LOCAL_SIMPLE = localPypiTree()?.simpleDir;
const CLOSURE = ['flask', 'blinker', 'click', 'itsdangerous', 'jinja2', 'markupsafe', 'werkzeug'] as const;
const ROOT_PASSWORD = 'root-e2e-secret';
const USER = 'webdev';
const PASSWORD = 'webdev-e2e-pw';
const INDEX = `${USER}/flask`;

const testRoot = new TestRoot('flask');
let master: WheelhouseProcess | undefined;
let work = '';
const guarded = (fn: Parameters<TestRoot['guarded']>[0]) => testRoot.guarded(fn);
const server = (): WheelhouseProcess => {
  assert.ok(master, 'the master did not start (see the before hook)');
  return master;
};

interface Closure {
  readonly wheels: string[];
  /** Why the closure cannot be used here; undefined when it can. */
  readonly skip: string | undefined;
}

/** Wheels of the closure from the local tree that Debian's Python 3 can install, sha256-checked. */
async function localClosure(): Promise<Closure> {
  if (LOCAL_SIMPLE === undefined) return { wheels: [], skip: `${LOCAL_PYPI_TREE_SKIP}: no local Flask closure to upload` };
  const tags = await supportedWheelTags();
  const wheels: string[] = [];
  for (const project of CLOSURE) {
    const indexHtml = join(LOCAL_SIMPLE, project, 'index.html');
    if (!existsSync(indexHtml)) return { wheels: [], skip: `${indexHtml} is absent: the local tree lacks ${project}` };
    const pageUrl = pathToFileURL(indexHtml);
    const found: string[] = [];
    for (const m of readFileSync(indexHtml, 'utf8').matchAll(/href="([^"]+)"/g)) {
      const href = new URL(m[1] ?? '', pageUrl);
      const path = fileURLToPath(href);
      if (!path.endsWith('.whl') || !wheelMatchesTags(basename(path), tags) || !existsSync(path)) continue;
      const fragment = /^#sha256=([0-9a-f]{64})$/.exec(href.hash);
      if (fragment) assert.equal(fileSha256(path), fragment[1], `local tree: sha256 of ${path}`);
      found.push(path);
    }
    if (found.length === 0) return { wheels: [], skip: `${indexHtml} links no wheel installable by /usr/bin/python3` };
    wheels.push(...found);
  }
  return { wheels, skip: undefined };
}

let closure: Closure = { wheels: [], skip: 'not computed' };

before(async () => {
  closure = await localClosure();
  if (closure.skip) return;
  master = await testRoot.startMaster('master', ROOT_PASSWORD, { logLevel: 'info' });
  work = join(testRoot.root, 'work');
  mkdirSync(work);
  await createUser(master.api.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(master.api.as({ user: USER, password: PASSWORD }), INDEX);
}, { timeout: 120_000 });

after(async () => {
  await testRoot.cleanup({ graceful: true });
});

test('pip is isolated: before any upload, Flask is not found on the empty Wheelhouse index', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async (t) => {
  if (closure.skip) {
    t.skip(closure.skip);
    return;
  }
  const m = server();
  const dest = join(work, 'download-empty');
  const r = await pipDownload({ indexUrl: simpleUrl(m.url, INDEX), requirements: ['flask'], dest, noDeps: true });
  assert.notEqual(r.code, 0, `pip found flask although nothing was uploaded — is pip isolated from the local tree?\n${r.describe()}`);
  assert.match(r.stderr + r.stdout, /No matching distribution found for flask/i, r.describe());
}));

test('Flask and its six dependencies, uploaded with twine, install with pip\'s resolver from Wheelhouse alone', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async (t) => {
  if (closure.skip) {
    t.skip(closure.skip);
    return;
  }
  const m = server();
  // Most of these wheels carry Metadata-Version 2.3–2.5, which Debian's twine 4.0.2 cannot read alone.
  const up = await twineUpload({ repositoryUrl: `${m.url}/${INDEX}/`, user: USER, password: PASSWORD, files: closure.wheels, newerMetadataVersions: true });
  assert.equal(up.code, 0, up.describe());

  const { data: list } = await projectListJson(m.url, INDEX);
  const names = list.projects.map((p) => p.name).sort();
  assert.deepEqual(names, [...CLOSURE].sort(), 'project list after the upload');

  const venv = await makeVenv(join(work, 'venv-flask'));
  const r = await pipInstall(venv, { indexUrl: simpleUrl(m.url, INDEX), requirements: ['flask'] });
  assert.equal(r.code, 0, r.describe());
  const installed = r.installed.map((i) => i.metadata.name.toLowerCase()).sort();
  assert.deepEqual(installed, [...CLOSURE].sort(), `pip installed ${installed.join(', ')}`);
  for (const item of r.installed) {
    assert.ok(item.download_info.url.startsWith(`${m.url}/`), `${item.metadata.name} came from ${item.download_info.url}`);
  }
  const flaskWheel = closure.wheels.find((w) => basename(w).toLowerCase().startsWith('flask-'));
  assert.ok(flaskWheel);
  const flaskVersion = basename(flaskWheel).split('-')[1];

  const app = [
    'import flask, importlib.metadata as md',
    "app = flask.Flask('wheelhouse_e2e')",
    "@app.route('/')",
    "def index():",
    "    return flask.render_template_string('hello {{ name }}', name='wheelhouse')",
    "print(app.test_client().get('/').get_data(as_text=True), md.version('flask'))",
  ].join('\n');
  const run = await pythonEval(venv.python, app);
  assert.equal(run.code, 0, run.describe());
  assert.equal(run.stdout.trim(), `hello wheelhouse ${String(flaskVersion)}`);
}));
