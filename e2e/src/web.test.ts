// The web interface in a real browser (Debian's chromium driven by playwright-core) against a real
// master and replica: from `/` to a version page by clicking, the rendered description (with a
// `<script>` in it that must stay inert), the uploaded documentation (sandboxed: an opaque origin),
// a search by a word of a summary, the page at phone width, and a replica's status page with the
// master stopped (it must say that the master is gone, and keep serving pages). Screenshots of every
// page go to e2e/artifacts/web/; with WH_UPDATE_SCREENSHOTS=1 the version page is also written to
// docs/screenshots/version-page.png (the README shows it).
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import yazl from 'yazl';
import { authHeaders, describeResponse, multipartBody, resultOf, type Credentials } from './harness.js';
import { notYet, TestRoot, waitFor, type WheelhouseProcess } from '@wheelhouse/testing';
import { waitConverged } from './replica-status.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/web/', import.meta.url));
const README_SHOT = fileURLToPath(new URL('../../docs/screenshots/version-page.png', import.meta.url));
const NO_BROWSER = existsSync(CHROMIUM) ? undefined : `no browser at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;

const DORA: Credentials = { user: 'dora', password: 'dora-web-e2e-pw' };
const INDEX = 'dora/dev';
const DESCRIPTION = [
  '# Inkwell',
  '',
  'Inkwell pours **perfectly balanced** quills for your *documents*.',
  '',
  '<script>window.__pwned = true</script>',
  '<img src="x" onerror="window.__pwned = true">',
  '',
  '## Usage',
  '',
  '```python',
  'from inkwell import pour',
  'pour(quills=3)',
  '```',
  '',
  '| option | meaning |',
  '|---|---|',
  '| `quills` | how many quills to pour |',
].join('\n');

const cluster = new TestRoot('web');
let master: WheelhouseProcess | undefined;
let replica: WheelhouseProcess | undefined;
let browser: Browser | undefined;

async function zipOf(entries: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(entries)) zip.addBuffer(Buffer.from(text), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function upload(node: WheelhouseProcess, fields: Array<readonly [string, string]>, filename: string, content: Uint8Array): Promise<void> {
  const { contentType, body } = multipartBody(fields, { filename, content });
  const res = await fetch(`${node.url}/${INDEX}/`, { method: 'POST', headers: { 'Content-Type': contentType, ...authHeaders(DORA) }, body });
  assert.equal(res.status, 200, `upload of ${filename}: ${res.status} ${res.statusText} ${await res.text()}`);
}

async function release(node: WheelhouseProcess, name: string, version: string, summary: string, description: string): Promise<void> {
  await upload(node, [
    [':action', 'file_upload'], ['protocol_version', '1'], ['metadata_version', '2.1'], ['name', name], ['version', version],
    ['summary', summary], ['description', description], ['description_content_type', 'text/markdown'], ['keywords', 'ink,writing'],
    ['author', 'Dora Example'], ['license', 'MIT'], ['requires_python', '>=3.9'], ['home_page', 'https://example.invalid/inkwell'],
    ['classifiers', 'Programming Language :: Python :: 3'], ['classifiers', 'License :: OSI Approved :: MIT License'],
    ['filetype', 'sdist'], ['pyversion', 'source'],
  ], `${name}-${version}.tar.gz`, Buffer.from(`sdist of ${name} ${version}`));
}

before(async () => {
  if (NO_BROWSER) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  master = await cluster.startMaster('master', 'root-web-e2e');
  replica = await cluster.startReplica('replica', master);
  const user = await master.api.put(`/${DORA.user}`, { password: DORA.password, email: 'dora@example.invalid' });
  assert.equal(user.status, 201, describeResponse(user));
  const ix = await master.api.as(DORA).put(`/${INDEX}`, { bases: [], volatile: true, title: 'Dora’s development index' });
  assert.ok(ix.status === 200 || ix.status === 201, describeResponse(ix));
  await release(master, 'inkwell', '1.1.0', 'Pours ink', 'Older release.');
  await release(master, 'inkwell', '1.2.0', 'Pours perfectly balanced quills', DESCRIPTION);
  await release(master, 'blotter', '0.3', 'Dries what inkwell spills', 'Plain text description.\n\n<b>not bold</b>');
  const docs = await zipOf({
    'index.html': '<!DOCTYPE html><html><head><title>Inkwell docs</title><link rel="stylesheet" href="_static/docs.css"></head><body><h1>Inkwell documentation</h1><p><a href="usage.html">Usage</a></p></body></html>',
    'usage.html': '<!DOCTYPE html><title>Usage</title><h1>Usage</h1>',
    '_static/docs.css': 'body { font-family: serif; max-width: 40rem; margin: 2rem auto; }',
  });
  await upload(master, [[':action', 'doc_upload'], ['name', 'inkwell'], ['version', '1.2.0']], 'inkwell-1.2.0.doc.zip', docs);
  const version = await master.api.get(`/${INDEX}/inkwell/1.2.0`);
  const links = resultOf<{ '+links': Array<{ rel: string; href: string }> }>(version)['+links'];
  const sdist = links.find((l) => l.rel === 'releasefile');
  assert.ok(sdist, version.text);
  for (const [env, retcode] of [['py311', '0'], ['py312', '1']] as const) {
    const tox = await fetch(sdist.href, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...authHeaders(DORA) },
      body: JSON.stringify({ reportversion: '1', toxversion: '4.0', platform: 'linux', host: 'ci-runner', testenvs: { [env]: { python: { version: env === 'py311' ? '3.11.2' : '3.12.1' }, test: [{ command: ['pytest', '-q'], retcode, output: retcode === '0' ? '12 passed in 0.31s' : 'FAILED test_pour.py::test_overflow - AssertionError' }] } } }),
    });
    assert.equal(tox.status, 200, await tox.text());
  }
  await waitConverged(master, [replica], 30_000);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await cluster.cleanup();
});

function nodes(): { m: WheelhouseProcess; r: WheelhouseProcess; b: Browser } {
  assert.ok(master && replica && browser, 'the cluster or the browser did not start (see the before hook)');
  return { m: master, r: replica, b: browser };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

function skipped(t: TestContext): boolean {
  if (NO_BROWSER) t.skip(NO_BROWSER);
  return NO_BROWSER !== undefined;
}

test('a person browses from / to a version page, reads the description and opens the docs', { timeout: 120_000 }, cluster.guarded(async (t) => {
  if (skipped(t)) return;
  const { m, b } = nodes();
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(`${m.url}/`);
    assert.equal(await page.title(), 'Indexes · Wheelhouse');
    await shot(page, '01-root');
    await page.getByRole('link', { name: INDEX, exact: true }).first().click();
    await page.waitForURL(`${m.url}/${INDEX}`);
    assert.match(await page.locator('h1').innerText(), /dora\/dev/);
    await shot(page, '02-index');
    await page.getByRole('link', { name: 'inkwell', exact: true }).click();
    await page.waitForURL(`${m.url}/${INDEX}/inkwell`);
    await shot(page, '03-project');
    await page.getByRole('link', { name: '1.2.0', exact: true }).first().click();
    await page.waitForURL(`${m.url}/${INDEX}/inkwell/1.2.0`);

    // the description, rendered from Markdown, with the script in it inert
    assert.equal(await page.locator('.markup h1').innerText(), 'Inkwell');
    assert.equal(await page.locator('.markup strong').first().innerText(), 'perfectly balanced');
    assert.equal(await page.locator('.markup table td code').first().innerText(), 'quills');
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    assert.equal(await page.locator('.markup script').count(), 0);
    // files, test results (one passed, one failed, output expandable), history
    assert.equal(await page.locator('a.filename', { hasText: 'inkwell-1.2.0.tar.gz' }).count(), 1);
    assert.equal(await page.locator('.badge.ok', { hasText: 'passed' }).count(), 1);
    assert.equal(await page.locator('.badge.bad', { hasText: 'failed' }).count(), 1);
    const failed = page.locator('details.result', { has: page.locator('.badge.bad') });
    assert.equal(await failed.locator('pre.output').isVisible(), false);
    await failed.locator('summary').click();
    assert.match(await failed.locator('pre.output').innerText(), /test_overflow/);
    assert.match(await page.locator('#history + .table-wrap').innerText(), /upload/);
    await shot(page, '04-version');
    if (process.env['WH_UPDATE_SCREENSHOTS']) {
      mkdirSync(dirname(README_SHOT), { recursive: true });
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: README_SHOT, fullPage: false });
    }

    // the documentation, in an opaque origin
    await page.getByRole('link', { name: 'Read the documentation' }).click();
    await page.waitForURL(`${m.url}/${INDEX}/inkwell/1.2.0/+doc/`);
    assert.equal(await page.locator('h1').innerText(), 'Inkwell documentation');
    assert.equal(await page.evaluate('window.origin'), 'null', 'docs run sandboxed, without the index origin');
    await shot(page, '05-docs');
    await page.getByRole('link', { name: 'Usage' }).click();
    assert.equal(await page.locator('h1').innerText(), 'Usage');
    const latest = await page.goto(`${m.url}/${INDEX}/inkwell/latest/+doc/`);
    assert.equal(latest?.status(), 200);
    // (the browser and fetch resolve `..` before sending; the unit tests send it raw and get 400)
    const escape = await fetch(`${m.url}/${INDEX}/inkwell/1.2.0/+doc/..%2f..%2f..%2fsecret`);
    assert.equal(escape.status, 400);
  } finally {
    await page.close();
  }
}));

test('search finds a project by a word of its summary; the version page fits a phone', { timeout: 60_000 }, cluster.guarded(async (t) => {
  if (skipped(t)) return;
  const { m, b } = nodes();
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(`${m.url}/`);
    await page.getByLabel('Search projects').fill('quills');
    await page.getByLabel('Search projects').press('Enter');
    await page.waitForURL(/\/\+search\?query=quills/);
    const first = page.locator('ul.cards li').first();
    assert.match(await first.innerText(), /inkwell/);
    assert.match(await first.innerText(), /perfectly balanced quills/);
    await shot(page, '06-search');
    await first.getByRole('link', { name: 'inkwell' }).click();
    await page.waitForURL(`${m.url}/${INDEX}/inkwell/1.2.0`);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px at phone width`);
    await shot(page, '07-version-phone');
  } finally {
    await page.close();
  }
}));

test('a replica keeps serving pages with the master stopped, and its status page says the master is gone', { timeout: 120_000 }, cluster.guarded(async (t) => {
  if (skipped(t)) return;
  const { m, r, b } = nodes();
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(`${r.url}/+status`);
    assert.equal(await page.locator('.banner').getAttribute('class'), 'banner ok', await page.locator('.banner').innerText());
    await shot(page, '08-replica-status-healthy');
    await m.stop();
    await waitFor(async () => {
      await page.reload();
      const text = await page.locator('.banner').innerText();
      return (/master/i.test(text) && !/^Healthy/.test(text)) || notYet(text);
    }, { what: 'the replica status page to report the stopped master', timeoutMs: 60_000, intervalMs: 500 });
    const banner = page.locator('.banner');
    assert.match((await banner.getAttribute('class')) ?? '', /banner (warn|bad)/);
    assert.match(await page.locator('main').innerText(), /REPLICA|replica/);
    await shot(page, '09-replica-status-master-down');
    await page.goto(`${r.url}/${INDEX}/inkwell/1.2.0`);
    assert.equal(await page.locator('.markup h1').innerText(), 'Inkwell');
    await page.goto(`${r.url}/+search?query=quills`);
    assert.match(await page.locator('ul.cards li').first().innerText(), /inkwell/);
  } finally {
    await page.close();
  }
}));
