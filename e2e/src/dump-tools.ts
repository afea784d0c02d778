// What the export/import, devpi-import, backup/restore and upgrade e2e tests share: running the
// `wheelhouse` CLI's offline commands (export, import, backup, restore) as real processes, walking
// a node's whole devpi JSON API (every user, index, project and version) into comparable documents,
// and the small write requests twine cannot make (doc upload, test result, push, store UUID).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ApiClient, type ApiResponse, authHeaders, type Credentials, describeResponse, multipartBody, resultOf, run, type RunResult, wheelhouseBin } from '@wheelhouse/testing';
import { pythonEval, systemPython } from './python-clients.js';

/** `node bin/wheelhouse ARGS…` (an offline command: export, import, backup, restore), bounded. */
export function wheelhouseCli(args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  return run(process.execPath, [wheelhouseBin, ...args], { timeoutMs, env: { ...process.env } });
}

/** The serial `wheelhouse export` printed ("exported serial N of store …"). */
export function exportedSerial(r: RunResult): number {
  const m = /exported serial (\d+) of store (\S+) \((direct|online)\)/.exec(r.stdout);
  if (!m) throw new Error(`no "exported serial N" line in the export's output:\n${r.describe()}`);
  return Number(m[1]);
}

/** The mode `wheelhouse export` printed: 'online' (read through the running node) or 'direct'. */
export function exportMode(r: RunResult): string {
  return /exported serial \d+ of store \S+ \((direct|online)\)/.exec(r.stdout)?.[1] ?? '?';
}

/** The manifest of a dump directory (docs/dump-format.md). */
export interface DumpManifest {
  readonly 'dump-format': number;
  readonly server: string;
  readonly 'server-version': string;
  readonly 'source-uuid': string;
  readonly serial: number;
  readonly created: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly 'state-sha256': string;
  readonly files: Readonly<Record<string, number>>;
}

export function readManifest(dumpDir: string): DumpManifest {
  return JSON.parse(readFileSync(`${dumpDir}/manifest.json`, 'utf8')) as DumpManifest;
}

/** Names in `dir`, or undefined when it does not exist. */
export function dirEntries(dir: string): string[] | undefined {
  return existsSync(dir) ? readdirSync(dir) : undefined;
}

/** Leftovers of an aborted import/restore beside `target` (`.<name>.importing-*`, `.<name>.restoring-*`). */
export function buildLeftovers(target: string): string[] {
  const prefix = `.${basename(target)}.`;
  return (dirEntries(dirname(target)) ?? []).filter((n) => n.startsWith(prefix));
}

/** The store UUID a node sends in `X-Devpi-UUID` (read from GET /+status). */
export async function storeUuid(baseUrl: string): Promise<string> {
  const res = await new ApiClient(baseUrl).get('/+status');
  const uuid = res.headers.get('x-devpi-uuid');
  if (res.status !== 200 || !uuid) throw new Error(`GET ${baseUrl}/+status: no X-Devpi-UUID (${describeResponse(res)})`);
  return uuid;
}

/** Replaces scheme and host of the `href`/`for_href` values anywhere in a JSON value (nothing else). */
export function withoutHosts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutHosts);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = (k === 'href' || k === 'for_href') && typeof v === 'string' ? v.replace(/^https?:\/\/[^/]+/, '') : withoutHosts(v);
    }
    return out;
  }
  return value;
}

/** Every document of a node's JSON API, by path, hosts stripped from hrefs; plus every file path linked. */
export interface ApiTree {
  readonly docs: Map<string, unknown>;
  /** Paths (no host) of every `+links` href, shadowing included. */
  readonly files: Set<string>;
}

function collectHrefs(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) collectHrefs(v, into);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'href' && typeof v === 'string') into.add(v.replace(/^https?:\/\/[^/]+/, ''));
      else collectHrefs(v, into);
    }
  }
}

/**
 * Walks GET / → GET /{user} → GET /{user}/{index} → GET /{user}/{index}/{project} →
 * GET /{user}/{index}/{project}/{version} (project pages include inherited versions, so every
 * version the API shows is visited). Throws on any non-200 answer.
 */
export async function apiTree(baseUrl: string, auth?: Credentials): Promise<ApiTree> {
  const api = new ApiClient(baseUrl, auth);
  const docs = new Map<string, unknown>();
  const files = new Set<string>();
  const get = async (path: string): Promise<Record<string, unknown>> => {
    const res = await api.get(path);
    if (res.status !== 200) throw new Error(`GET ${baseUrl}${path}: ${describeResponse(res)}`);
    const result = resultOf<Record<string, unknown>>(res);
    docs.set(path, withoutHosts(result));
    collectHrefs(result, files);
    return result;
  };
  const users = await get('/');
  const indexes = new Map<string, { bases: string[]; projects: string[] }>();
  for (const user of Object.keys(users).sort()) {
    const u = await get(`/${user}`);
    for (const index of Object.keys((u['indexes'] ?? {}) as Record<string, unknown>).sort()) {
      const ix = await get(`/${user}/${index}`);
      indexes.set(`${user}/${index}`, { bases: (ix['bases'] ?? []) as string[], projects: (ix['projects'] ?? []) as string[] });
    }
  }
  // an index's project pages: its own projects and those it inherits through its bases
  const reachable = (stage: string, seen = new Set<string>()): Set<string> => {
    const out = new Set<string>();
    if (seen.has(stage)) return out;
    seen.add(stage);
    const ix = indexes.get(stage);
    for (const p of ix?.projects ?? []) out.add(p);
    for (const b of ix?.bases ?? []) for (const p of reachable(b, seen)) out.add(p);
    return out;
  };
  for (const stage of [...indexes.keys()].sort()) {
    for (const project of [...reachable(stage)].sort()) {
      const p = await get(`/${stage}/${project}`);
      for (const version of Object.keys(p).sort()) await get(`/${stage}/${project}/${encodeURIComponent(version)}`);
    }
  }
  return { docs, files };
}

/** Differences between two API trees (paths on one side only, documents that differ), for messages. */
export function diffTrees(a: ApiTree, b: ApiTree, names: [string, string]): string[] {
  const problems: string[] = [];
  for (const p of a.docs.keys()) if (!b.docs.has(p)) problems.push(`${p}: only on ${names[0]}`);
  for (const p of b.docs.keys()) if (!a.docs.has(p)) problems.push(`${p}: only on ${names[1]}`);
  for (const [p, doc] of a.docs) {
    if (!b.docs.has(p)) continue;
    const x = JSON.stringify(doc);
    const y = JSON.stringify(b.docs.get(p));
    if (x !== y) problems.push(`${p} differs:\n  ${names[0]}: ${x.slice(0, 1500)}\n  ${names[1]}: ${y.slice(0, 1500)}`);
  }
  return problems;
}

/** GET a file's bytes (200 expected). */
export async function fetchBytes(url: string): Promise<Buffer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${body.toString('utf8').slice(0, 300)}`);
  return body;
}

/** A small documentation zip (index.html, changelog.html, api/index.html), made by Python's zipfile. */
export async function makeDocZip(path: string, title: string): Promise<Buffer> {
  const code = [
    'import sys, zipfile',
    "z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)",
    "z.writestr('index.html', '<h1>%s</h1>' % sys.argv[2])",
    "z.writestr('changelog.html', '<p>changes</p>')",
    "z.writestr('api/index.html', '<p>api</p>')",
    'z.close()',
  ].join('\n');
  const r = await pythonEval(systemPython, code, [path, title]);
  if (r.code !== 0) throw new Error(`making ${path}: ${r.describe()}`);
  return readFileSync(path);
}

/** `:action=doc_upload` of `zip` for name/version to an index URL (…/user/index/). */
export async function docUpload(indexUrl: string, auth: Credentials, name: string, version: string, zip: Uint8Array): Promise<ApiResponse> {
  const { contentType, body } = multipartBody(
    [[':action', 'doc_upload'], ['name', name], ['version', version]],
    { filename: `${name}-${version}.doc.zip`, content: zip },
  );
  const res = await fetch(indexUrl, {
    method: 'POST',
    headers: { 'Content-Type': contentType, ...authHeaders(auth) },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, statusText: res.statusText, headers: res.headers, text, json: undefined, serial: Number(res.headers.get('x-devpi-serial') ?? NaN) };
}

/** The `+links` of one version as the JSON API shows them (hrefs with host). */
export interface VersionLink {
  readonly rel: string;
  readonly href: string;
  readonly hashes: { readonly sha256: string };
  readonly size: number;
  readonly log: ReadonlyArray<Record<string, unknown>>;
  readonly for_href?: string;
}

export async function versionLinks(baseUrl: string, path: string): Promise<VersionLink[]> {
  const res = await new ApiClient(baseUrl).get(path);
  if (res.status !== 200) throw new Error(`GET ${baseUrl}${path}: ${describeResponse(res)}`);
  return (resultOf<{ '+links'?: VersionLink[] }>(res)['+links'] ?? []).slice();
}

/** A tox-like test result JSON, as devpi-client posts it to a release file's URL. */
export function toxResult(fileSha256: string, retcode: number): Record<string, unknown> {
  return {
    reportversion: '1',
    toxversion: '3.28.0',
    host: 'wheelhouse-e2e',
    platform: 'linux',
    commands: [],
    testenvs: { py311: { installpkg: { sha256: fileSha256, basename: 'tested' }, test: [{ command: ['pytest'], retcode, output: 'ok' }] } },
  };
}
