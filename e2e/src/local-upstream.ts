// Upstream indexes for the mirror tests, all local (no test needs the internet):
//   FakeUpstream     a tiny PEP 503 HTML / PEP 691 JSON index made of generated wheels: ETags and
//                    304s, switchable to fail (500), hang (no answer) or 404, and a log of every
//                    path asked — to prove a private name is never sent upstream. Its `/simple/`
//                    can be PyPI-sized (~880,000 names, streamed from a names file).
//   StaticTree       a static file server over a PEP 503 tree on disk (the machine's local tree,
//                    see localPypiTree() in @wheelhouse/testing: `/simple/flask/` →
//                    `simple/flask/index.html`, links to `../../files/*.whl`).
//   peakRssBytes     a process's VmHWM / VmRSS from /proc.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { buildWheel, localPypiTree, sharedDataFile } from '@wheelhouse/testing';

/** PyPI's project names (886,323 of them, one a line, gzip'd). */
export const PYPI_NAMES_GZ = sharedDataFile('pypi-names.txt.gz');

/** PEP 503 normalisation as Wheelhouse (and devpi) apply it: runs of non-alphanumerics → `-`, lower case. */
export function normalizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** One file of a fake upstream project. */
export interface UpstreamFile {
  readonly filename: string;
  readonly content: Buffer;
  readonly requiresPython?: string;
  readonly yanked?: boolean | string;
  /** PEP 658 metadata served at `<file URL>.metadata` (advertised with its sha256). */
  readonly metadata?: Buffer;
}

/** How the fake upstream answers: normally, 500 to everything, never (the request hangs), 404 to everything. */
export type UpstreamMode = 'ok' | 'fail' | 'hang' | 'not-found';

/** Which formats the fake upstream offers for project pages. */
export type UpstreamFormat = 'json' | 'html' | 'both';

/** Where the names of the fake upstream's `/simple/` come from: its projects, or a (big) names file. */
export type ListSource = { kind: 'projects' } | { kind: 'names-file'; path: string };

/** A small PEP 503/691 index on 127.0.0.1 (see module doc). */
export class FakeUpstream {
  readonly projects = new Map<string, UpstreamFile[]>();
  mode: UpstreamMode = 'ok';
  format: UpstreamFormat;
  list: ListSource = { kind: 'projects' };
  /** Every request path, in order. */
  readonly paths: string[] = [];
  /** `if-none-match` answered with 304. */
  notModified = 0;
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    format: UpstreamFormat,
  ) {
    this.format = format;
  }

  static async start(format: UpstreamFormat = 'both'): Promise<FakeUpstream> {
    let self: FakeUpstream | undefined;
    const server = createServer((req, res) => self?.handle(req, res));
    server.keepAliveTimeout = 1_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new FakeUpstream(server, (server.address() as AddressInfo).port, format);
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The `mirror_url` to give a mirror index. */
  get simpleUrl(): string {
    return `${this.url}/simple/`;
  }

  /** Adds (or replaces) a project and its files. */
  setProject(name: string, files: UpstreamFile[]): void {
    this.projects.set(normalizeName(name), files);
  }

  /** Adds tiny wheels of `versions` as the project's files. */
  async addWheels(name: string, versions: readonly string[]): Promise<UpstreamFile[]> {
    const files: UpstreamFile[] = [];
    for (const v of versions) {
      const w = buildWheel(name, v, { layout: 'module' });
      files.push({ filename: w.filename, content: w.content, requiresPython: '>=3.8', metadata: w.metadata });
    }
    this.setProject(name, files);
    return files;
  }

  /** Requests whose path mentions `name` (normalised, or as given) anywhere. */
  requestsMentioning(name: string): string[] {
    const n = normalizeName(name);
    return this.paths.filter((p) => p.toLowerCase().includes(n) || p.includes(name));
  }

  /** Requests of the project page `/simple/{name}/`. */
  pageRequests(name: string): number {
    const want = `/simple/${normalizeName(name)}/`;
    return this.paths.filter((p) => p === want).length;
  }

  /** Requests of a file (not its `.metadata`). */
  fileRequests(filename: string): number {
    return this.paths.filter((p) => p === `/files/${filename}`).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    this.paths.push(path);
    if (this.mode === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (this.mode === 'fail') return this.send(res, 500, 'text/plain', 'upstream is having a bad day');
    if (this.mode === 'not-found') return this.send(res, 404, 'text/plain', 'not found');
    if (path === '/simple/' || path === '/simple') return void this.sendList(res);
    const page = /^\/simple\/([^/]+)\/?$/.exec(path);
    if (page) {
      const name = page[1]!;
      if (normalizeName(name) !== name || !path.endsWith('/')) {
        res.writeHead(301, { location: `/simple/${normalizeName(name)}/` });
        res.end();
        return;
      }
      return this.sendProject(req, res, name);
    }
    const file = /^\/files\/([^/]+?)(\.metadata)?$/.exec(path);
    if (file) {
      const filename = decodeURIComponent(file[1]!);
      for (const files of this.projects.values()) {
        const f = files.find((x) => x.filename === filename);
        if (!f) continue;
        if (file[2]) return f.metadata ? this.send(res, 200, 'application/octet-stream', f.metadata) : this.send(res, 404, 'text/plain', 'no metadata');
        return this.send(res, 200, 'application/octet-stream', f.content);
      }
    }
    this.send(res, 404, 'text/plain', 'not found');
  }

  private send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { 'content-type': type, 'content-length': String(buf.length), ...headers });
    res.end(buf);
  }

  private sendProject(req: IncomingMessage, res: ServerResponse, name: string): void {
    const files = this.projects.get(name);
    if (!files) return this.send(res, 404, 'text/plain', `no project ${name}`);
    const accept = req.headers.accept ?? '';
    const json = this.format === 'json' || (this.format === 'both' && accept.includes('application/vnd.pypi.simple.v1+json'));
    const body = json ? this.projectJson(name, files) : this.projectHtml(name, files);
    const etag = `"${sha256(Buffer.from(body)).slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) {
      this.notModified++;
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    this.send(res, 200, json ? 'application/vnd.pypi.simple.v1+json' : 'text/html; charset=utf-8', body, { etag, 'x-pypi-last-serial': '42' });
  }

  private projectJson(name: string, files: UpstreamFile[]): string {
    return JSON.stringify({
      meta: { 'api-version': '1.1' },
      name,
      files: files.map((f) => ({
        filename: f.filename,
        // relative to the page, as PyPI's are not — the mirror must resolve it
        url: `../../files/${encodeURIComponent(f.filename)}`,
        hashes: { sha256: sha256(f.content) },
        ...(f.requiresPython ? { 'requires-python': f.requiresPython } : {}),
        ...(f.yanked !== undefined ? { yanked: f.yanked } : {}),
        ...(f.metadata ? { 'core-metadata': { sha256: sha256(f.metadata) } } : {}),
        size: f.content.length,
        'upload-time': '2024-01-02T03:04:05.000000Z',
      })),
    });
  }

  private projectHtml(name: string, files: UpstreamFile[]): string {
    const links = files.map((f) => {
      const attrs = [`href="../../files/${encodeURIComponent(f.filename)}#sha256=${sha256(f.content)}"`];
      if (f.requiresPython) attrs.push(`data-requires-python="${escapeHtml(f.requiresPython)}"`);
      if (f.yanked === true) attrs.push('data-yanked=""');
      else if (typeof f.yanked === 'string') attrs.push(`data-yanked="${escapeHtml(f.yanked)}"`);
      if (f.metadata) attrs.push(`data-core-metadata="sha256=${sha256(f.metadata)}"`);
      return `<a ${attrs.join(' ')}>${escapeHtml(f.filename)}</a><br>`;
    });
    return `<!DOCTYPE html><html><head><title>Links for ${escapeHtml(name)}</title></head><body><h1>Links for ${escapeHtml(name)}</h1>\n${links.join('\n')}\n</body></html>\n`;
  }

  private async sendList(res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', etag: '"list-1"' });
    res.write('<!DOCTYPE html><html><head><title>Simple index</title></head><body>\n');
    if (this.list.kind === 'projects') {
      for (const name of this.projects.keys()) res.write(`<a href="/simple/${name}/">${escapeHtml(name)}</a>\n`);
    } else {
      let batch = '';
      for await (const name of namesFromFile(this.list.path)) {
        batch += `<a href="/simple/${escapeHtml(normalizeName(name))}/">${escapeHtml(name)}</a>\n`;
        if (batch.length > 64 * 1024) {
          if (!res.write(batch)) await new Promise((r) => res.once('drain', r));
          batch = '';
        }
      }
      res.write(batch);
    }
    res.end('</body></html>\n');
  }

  /** Closes the server and every connection (hanging requests included). */
  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

/** The names of a `.txt` or `.txt.gz` names file, one a line, streamed. */
export async function* namesFromFile(path: string): AsyncIterable<string> {
  const input = createReadStream(path);
  const lines = createInterface({ input: path.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
  for await (const line of lines) {
    const name = line.trim();
    if (name) yield name;
  }
}

/** A static file server over a PEP 503 tree (`/simple/x/` → `simple/x/index.html`). */
export class StaticTree {
  /** Request paths, in order. */
  readonly paths: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly root: string,
  ) {}

  /** True when the local PEP 503 tree was found (the tests skip with LOCAL_PYPI_TREE_SKIP otherwise). */
  static available(): boolean {
    return localPypiTree() !== undefined;
  }

  /** Serves `root` (default: the local PEP 503 tree's root) on `port` (default: a free one). */
  static async start(root = localPypiTree()?.root, port = 0): Promise<StaticTree> {
    if (root === undefined) throw new Error('no local PEP 503 tree (see LOCAL_PYPI_TREE_SETTING)');
    const base = resolve(root);
    let self: StaticTree | undefined;
    const server = createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
      self?.paths.push(path);
      let file = normalize(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) {
        res.writeHead(403).end();
        return;
      }
      try {
        if (statSync(file).isDirectory()) {
          if (!path.endsWith('/')) {
            res.writeHead(301, { location: `${path}/` }).end();
            return;
          }
          file = join(file, 'index.html');
        }
        const st = statSync(file);
        const type = file.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream';
        res.writeHead(200, { 'content-type': type, 'content-length': String(st.size) });
        if (req.method === 'HEAD') return void res.end();
        createReadStream(file).pipe(res);
      } catch {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
    });
    await new Promise<void>((r, j) => {
      server.once('error', j);
      server.listen(port, '127.0.0.1', r);
    });
    self = new StaticTree(server, (server.address() as AddressInfo).port, base);
    return self;
  }

  get simpleUrl(): string {
    return `http://127.0.0.1:${this.port}/simple/`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

/** Peak (VmHWM) and current (VmRSS) resident set size of a process, bytes, from /proc. */
export function processMemory(pid: number | undefined): { peak: number; rss: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
    return { peak: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

/** Distinct normalised names of a names file (what a mirror's full list must hold). */
export async function normalisedNames(path: string): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const n of namesFromFile(path)) out.add(normalizeName(n));
  return out;
}
