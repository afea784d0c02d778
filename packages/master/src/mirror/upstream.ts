/**
 * Talking to an upstream PEP 503/691 index: project pages (PEP 691 JSON preferred, HTML accepted,
 * parsed with htmlparser2), conditional requests with the ETag, the full project list streamed
 * (never held as one page), and a circuit breaker per upstream (`maxFails` consecutive failures open
 * it for `failTimeoutMs`: no requests, callers serve what is cached).
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { request } from 'undici';
import { Parser } from 'htmlparser2';
import { normalizeProjectName, parseFileName, type MirrorLink } from '@wheelhouse/core';
import { SERVER_VERSION } from '@wheelhouse/http';

/** Media types asked for a project page: JSON first, HTML as fallback (PEP 691). */
export const PROJECT_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01';

/** An upstream failure (network, timeout, unexpected status, unparsable body); the message says which. */
export class UpstreamError extends Error {}

/** A fetched project page. */
export type ProjectFetch =
  | { status: 'ok'; links: MirrorLink[]; versions?: string[]; etag?: string; serial: number }
  | { status: 'not-modified' }
  | { status: 'not-found' };

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** GET with a timeout, following up to 3 redirects (static servers redirect to the slash URL; CDNs redirect files). Throws UpstreamError. */
export async function get(url: string, headers: Record<string, string>, timeoutMs: number) {
  let target = url;
  for (let hop = 0; hop < 4; hop++) {
    let res;
    try {
      res = await request(target, { headers: { 'user-agent': `wheelhouse/${SERVER_VERSION}`, ...headers }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs * 6, signal: AbortSignal.timeout(timeoutMs * 6) });
    } catch (err) {
      const e = err as { code?: string; message: string };
      throw new UpstreamError(`upstream ${target} unreachable: ${e.code ?? e.message}`);
    }
    const location = header(res.headers, 'location');
    if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && location) {
      await res.body.dump();
      target = new URL(location, target).toString();
      continue;
    }
    return { res, url: target };
  }
  throw new UpstreamError(`upstream ${url}: too many redirects`);
}

function linkOf(project: string, filename: string, url: string, extra: Partial<MirrorLink>): MirrorLink | undefined {
  const parsed = parseFileName(filename);
  if (!parsed || normalizeProjectName(parsed.name) !== project) return undefined;
  return { filename, url, version: parsed.version, ...extra };
}

/** Parses a PEP 691 JSON project page. */
export function parseProjectJson(text: string, pageUrl: string, project: string): { links: MirrorLink[]; versions?: string[] } {
  let doc: { meta?: { 'api-version'?: string }; files?: Array<Record<string, unknown>>; versions?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new UpstreamError(`upstream ${pageUrl}: the JSON page does not parse`);
  }
  if (!String(doc.meta?.['api-version'] ?? '').startsWith('1.')) throw new UpstreamError(`upstream ${pageUrl}: unsupported api-version ${String(doc.meta?.['api-version'])}`);
  const links: MirrorLink[] = [];
  for (const f of doc.files ?? []) {
    const filename = String(f['filename'] ?? '');
    const url = new URL(String(f['url'] ?? ''), pageUrl);
    url.hash = '';
    const hashes = (f['hashes'] ?? {}) as Record<string, string>;
    const extra: Partial<MirrorLink> = {};
    if (hashes['sha256']) extra.sha256 = hashes['sha256'].toLowerCase();
    if (typeof f['requires-python'] === 'string' && f['requires-python']) extra.requires_python = f['requires-python'];
    if (f['yanked'] === true || (typeof f['yanked'] === 'string' && f['yanked'])) extra.yanked = f['yanked'] as string | true;
    const meta = f['core-metadata'] ?? f['data-dist-info-metadata'];
    if (meta && typeof meta === 'object' && typeof (meta as Record<string, unknown>)['sha256'] === 'string') extra.core_metadata = (meta as Record<string, string>)['sha256']!;
    else if (meta === true) extra.core_metadata = true;
    if (typeof f['size'] === 'number') extra.size = f['size'];
    if (typeof f['upload-time'] === 'string') extra.upload_time = f['upload-time'];
    const link = linkOf(project, filename, url.toString(), extra);
    if (link) links.push(link);
  }
  const out: { links: MirrorLink[]; versions?: string[] } = { links };
  if (Array.isArray(doc.versions)) out.versions = doc.versions.map(String);
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return '';
  }
}

/** Parses a PEP 503 HTML project page (anchors with `#sha256=`, `data-requires-python`, `data-yanked`, core metadata). */
export function parseProjectHtml(html: string, pageUrl: string, project: string): { links: MirrorLink[] } {
  const links: MirrorLink[] = [];
  let current: { attrs: Record<string, string>; text: string } | undefined;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'a') current = { attrs, text: '' };
      },
      ontext(text) {
        if (current) current.text += text;
      },
      onclosetag(name) {
        if (name !== 'a' || !current) return;
        const { attrs, text } = current;
        current = undefined;
        if (!attrs['href']) return;
        const url = new URL(attrs['href'], pageUrl);
        const fragment = url.hash.slice(1);
        url.hash = '';
        // the file name is the href's last path segment, unquoted (devpi); the anchor text may be quoted or carry the fragment
        const filename = safeDecode(url.pathname.split('/').pop() ?? '') || text.trim();
        const extra: Partial<MirrorLink> = {};
        // any hex digest is taken as upstream says (devpi), a short one then fails verification on download
        const m = /^sha256=([0-9a-fA-F]+)$/.exec(fragment);
        if (m) extra.sha256 = m[1]!.toLowerCase();
        if (attrs['data-requires-python']) extra.requires_python = attrs['data-requires-python'];
        if ('data-yanked' in attrs) extra.yanked = attrs['data-yanked'] || true;
        const meta = attrs['data-core-metadata'] ?? attrs['data-dist-info-metadata'];
        const mm = meta ? /^sha256=([0-9a-fA-F]{64})$/.exec(meta) : null;
        if (mm) extra.core_metadata = mm[1]!.toLowerCase();
        else if (meta !== undefined) extra.core_metadata = true;
        const link = linkOf(project, filename, url.toString(), extra);
        if (link) links.push(link);
      },
    },
    { decodeEntities: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return { links };
}

/** Fetches one project page (conditional on `etag`). Throws UpstreamError. */
export async function fetchProjectPage(mirrorUrl: string, project: string, etag: string | undefined, timeoutMs: number): Promise<ProjectFetch> {
  const { res, url } = await get(`${mirrorUrl}${project}/`, { accept: PROJECT_ACCEPT, ...(etag ? { 'if-none-match': etag } : {}) }, timeoutMs);
  if (res.statusCode === 304) {
    await res.body.dump();
    return { status: 'not-modified' };
  }
  if (res.statusCode === 404 || res.statusCode === 410) {
    await res.body.dump();
    return { status: 'not-found' };
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new UpstreamError(`upstream ${url} answered ${res.statusCode}`);
  }
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    throw new UpstreamError(`upstream ${url}: reading the page failed: ${(err as Error).message}`);
  }
  const type = header(res.headers, 'content-type') ?? '';
  const parsed = type.includes('json') ? parseProjectJson(text, url, project) : parseProjectHtml(text, url, project);
  const newEtag = header(res.headers, 'etag');
  const serial = Number(header(res.headers, 'x-pypi-last-serial') ?? -1);
  return { status: 'ok', ...parsed, ...(newEtag ? { etag: newEtag } : {}), serial: Number.isSafeInteger(serial) ? serial : -1 };
}

/**
 * Fetches the full project list as HTML and streams it through the parser: yields each project
 * name as found (normalised). Throws UpstreamError.
 */
export async function fetchProjectList(mirrorUrl: string, timeoutMs: number, onName: (name: string) => void): Promise<{ etag?: string }> {
  const { res, url } = await get(mirrorUrl, { accept: 'text/html' }, timeoutMs * 6);
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new UpstreamError(`upstream ${url} answered ${res.statusCode} for the project list`);
  }
  let inA = false;
  let text = '';
  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'a') {
          inA = true;
          text = '';
        }
      },
      ontext(t) {
        if (inA) text += t;
      },
      onclosetag(name) {
        if (name !== 'a') return;
        inA = false;
        const n = text.trim();
        if (n) onName(normalizeProjectName(n));
      },
    },
    { decodeEntities: true },
  );
  try {
    for await (const chunk of res.body) parser.write((chunk as Buffer).toString('utf8'));
    parser.end();
  } catch (err) {
    throw new UpstreamError(`upstream ${url}: reading the project list failed: ${(err as Error).message}`);
  }
  const etag = header(res.headers, 'etag');
  return etag ? { etag } : {};
}

/** Circuit breaker numbers. */
export interface BreakerPolicy {
  /** consecutive failures that open the circuit */
  maxFails: number;
  /** ms the circuit stays open */
  failTimeoutMs: number;
}

/** A circuit breaker for one upstream. */
export class CircuitBreaker {
  fails = 0;
  openUntil = 0;
  lastError: string | undefined;
  lastSuccess = 0;
  constructor(private readonly policy: BreakerPolicy) {}

  /** True when requests may go upstream now. */
  allows(now = Date.now()): boolean {
    return this.openUntil <= now;
  }

  success(now = Date.now()): void {
    this.fails = 0;
    this.openUntil = 0;
    this.lastError = undefined;
    this.lastSuccess = now;
  }

  failure(message: string, now = Date.now()): void {
    this.fails++;
    this.lastError = message;
    if (this.fails >= this.policy.maxFails) this.openUntil = now + this.policy.failTimeoutMs;
  }
}

/**
 * GET of a release file from upstream as a Node stream, following up to 3 redirects. Uses
 * `node:http(s)` rather than undici: undici 7 asserts (and takes the process down) when an
 * HTTP/1.0 upstream closes the connection while the body is paused by backpressure — which a
 * download streamed to disk and to a slow client does all the time.
 */
export function getStream(url: string, timeoutMs: number, hops = 3): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const get = target.protocol === 'https:' ? httpsGet : httpGet;
    const req = get(target, { headers: { 'user-agent': `wheelhouse/${SERVER_VERSION}` }, timeout: timeoutMs }, (res) => {
      const location = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location && hops > 0) {
        res.resume();
        getStream(new URL(location, target).toString(), timeoutMs, hops - 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    req.on('timeout', () => req.destroy(new UpstreamError(`upstream ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof UpstreamError ? err : new UpstreamError(`upstream ${url} unreachable: ${err.code ?? err.message}`)));
  });
}
