/**
 * The master's mirror indexes (`MirrorAccess`): project pages fetched from upstream and cached in
 * the changelog (so replicas have them), refreshed after `mirror_cache_expiry` with conditional
 * requests — in the background when a stale copy exists (devpi #1044, #911), served stale with a
 * `Warning` when upstream fails (never an empty page, devpi #925), 502 naming the upstream error for
 * a project never fetched. Release files are fetched on first download, streamed to the client
 * while stored, verified against the upstream sha256, and committed so replicas get them. The full
 * project list is fetched streamed and stored as two pages (HTML, JSON) in the file store, served
 * from disk. A circuit breaker per mirror stops hammering a failing upstream; `offline` serves only
 * what is cached.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Changelog, FileStore } from '@wheelhouse/changelog';
import {
  BadGatewayError,
  NotFoundError,
  ServiceUnavailableError,
  entrypathFor,
  escapeHtml,
  getIndex,
  getMirrorProject,
  keys,
  listUserNames,
  mirrorBaseUrl,
  mirrorCacheExpiry,
  mirrorLinkEntrypath,
  mirrorListBody,
  parseKey,
  splitStage,
  stagePath,
  streamWhileStoring,
  type FileEntry,
  type MirrorAccess,
  type MirrorConfig,
  type MirrorLink,
  type MirrorListRecord,
  type MirrorProjectRecord,
  type PrepareOutcome,
  type SimpleFormat,
} from '@wheelhouse/core';
import { bodyHeaders, contentTypeFor, nodeHeaderList, sendStoredBody, sendStoredPage, type MirrorStatus, type NodeInfo } from '@wheelhouse/http';
import { CircuitBreaker, UpstreamError, fetchProjectList, fetchProjectPage, getStream, type BreakerPolicy } from './upstream.js';

/** Options of the mirror service. */
export interface MirrorServiceOptions {
  changelog: Changelog;
  files: FileStore;
  node: NodeInfo;
  log: Logger;
  /** serve only what is cached; never contact upstream */
  offline?: boolean;
  /** timeout of one upstream request, ms (default 5,000) */
  timeoutMs?: number;
  breaker?: Partial<BreakerPolicy>;
}

/** Health of one mirror (for `/+status` and metrics). */
export type MirrorHealth = MirrorStatus;

/** The master's mirror access (see module doc). */
export class MirrorService implements MirrorAccess {
  private readonly inflight = new Map<string, Promise<PrepareOutcome>>();
  /** last upstream check per stage+project (ms); a 304 or unchanged page refreshes only this */
  private readonly checked = new Map<string, number>();
  private readonly notFound = new Map<string, number>();
  private readonly lastFailure = new Map<string, string>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly listInflight = new Map<string, Promise<void>>();
  private readonly timeoutMs: number;

  constructor(private readonly opts: MirrorServiceOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5_000;
  }

  private config(stage: string): MirrorConfig {
    const [u, i] = splitStage(stage);
    const cfg = getIndex(this.opts.changelog, u, i);
    if (cfg?.type !== 'mirror') throw new Error(`${stage} is not a mirror index`);
    return cfg;
  }

  private breaker(stage: string): CircuitBreaker {
    let b = this.breakers.get(stage);
    if (!b) {
      b = new CircuitBreaker({ maxFails: this.opts.breaker?.maxFails ?? 3, failTimeoutMs: this.opts.breaker?.failTimeoutMs ?? 30_000 });
      this.breakers.set(stage, b);
    }
    return b;
  }

  prepare(stage: string, project: string): Promise<PrepareOutcome> | PrepareOutcome | undefined {
    const cfg = this.config(stage);
    const key = `${stage}\0${project}`;
    const rec = getMirrorProject(this.opts.changelog, stage, project);
    if (this.opts.offline) return undefined;
    const now = Date.now();
    const lastCheck = Math.max(rec?.fetched ?? 0, this.checked.get(key) ?? 0);
    if (rec && now - lastCheck < mirrorCacheExpiry(cfg) * 1000) return undefined;
    if (!rec && (this.notFound.get(key) ?? 0) > now) return undefined;
    if (rec) {
      // stale: serve it now, refresh in the background
      void this.refresh(stage, project);
      const failure = this.lastFailure.get(key);
      return failure ? { stale: `upstream check failed (${failure}); page cached ${new Date(rec.fetched).toISOString()}` } : undefined;
    }
    return this.refresh(stage, project);
  }

  /** Fetches a project page from upstream and commits it when it changed (deduplicated per project). */
  refresh(stage: string, project: string): Promise<PrepareOutcome> {
    const key = `${stage}\0${project}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const work = this.doRefresh(stage, project, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, work);
    return work;
  }

  private async doRefresh(stage: string, project: string, key: string): Promise<PrepareOutcome> {
    const cfg = this.config(stage);
    const breaker = this.breaker(stage);
    if (!breaker.allows()) {
      const message = `upstream ${cfg.mirror_url} is failing (${breaker.lastError ?? 'errors'}); not asked again until ${new Date(breaker.openUntil).toISOString()}`;
      this.lastFailure.set(key, message);
      return { error: `${project}: ${message}` };
    }
    const rec = getMirrorProject(this.opts.changelog, stage, project);
    try {
      const got = await fetchProjectPage(mirrorBaseUrl(cfg), project, rec?.etag, this.timeoutMs);
      breaker.success();
      this.lastFailure.delete(key);
      this.checked.set(key, Date.now());
      if (got.status === 'not-modified') return {};
      if (got.status === 'not-found') {
        // a project upstream lost stays cached (devpi never deletes it)
        if (!rec) this.notFound.set(key, Date.now() + mirrorCacheExpiry(cfg) * 1000);
        return {};
      }
      // stored values come back with their keys sorted: compare canonical forms
      const same = rec && canonicalJson(rec.links) === canonicalJson(got.links) && canonicalJson(rec.versions) === canonicalJson(got.versions);
      if (same) return {};
      const record: MirrorProjectRecord = { name: project, links: got.links, serial: got.serial, fetched: Date.now() };
      if (got.versions) record.versions = got.versions;
      if (got.etag) record.etag = got.etag;
      await this.opts.changelog.write((tx) => tx.set(keys.mirrorProject(stage, project), record));
      return {};
    } catch (err) {
      const message = (err as Error).message;
      breaker.failure(message);
      this.lastFailure.set(key, message);
      this.opts.log.warn({ stage, project, err: message }, 'mirror: upstream fetch failed');
      return rec ? { stale: message } : { error: `${project} was never fetched from ${cfg.mirror_url} and upstream failed: ${message}` };
    }
  }

  /** Serves a mirror release file (see module doc); rejects with NotFoundError / BadGatewayError while nothing was sent. */
  async serveFile(req: IncomingMessage, res: ServerResponse, stage: string, project: string, link: MirrorLink): Promise<void> {
    const { files, node } = this.opts;
    // a link upstream gave without a hash is stored under devpi's `+e/…` path once fetched, with the hash it turned out to have
    const sha256 = link.sha256;
    const entrypath = mirrorLinkEntrypath(stage, link);
    const commit = async (size: number, sha: string): Promise<void> => {
      const entry: FileEntry = { sha256: sha, size, project, version: link.version, rel: 'releasefile', modified: Date.now() };
      await this.opts.changelog.write((tx) => {
        if (!tx.get(keys.file(entrypath))) tx.set(keys.file(entrypath), entry);
      });
    };
    const meta = { etag: `"${sha256 ?? ''}"`, contentType: contentTypeFor(link.filename), caching: 'immutable' as const };
    const stored = sha256 ? await files.stat(sha256) : undefined;
    if (sha256 && stored) {
      await commit(stored.size, sha256).catch(() => undefined);
      return sendStoredBody(req, res, nodeHeaderList(node), { ...meta, modified: Date.now(), path: files.pathFor(sha256), size: stored.size }, () => {
        throw new NotFoundError(`${link.filename} vanished`);
      });
    }
    if (this.opts.offline) throw new NotFoundError(`${link.filename} is not cached and the server is offline`);
    let upstream;
    try {
      upstream = await getStream(link.url, this.timeoutMs);
    } catch (err) {
      throw new BadGatewayError(`fetching ${link.filename} from upstream failed: ${(err as Error).message}`);
    }
    if (upstream.statusCode !== 200) {
      upstream.resume();
      // devpi's wording ("error 404 getting URL"), which devpi's client tests look for
      const message = `error ${upstream.statusCode ?? '?'} getting ${link.url}`;
      throw upstream.statusCode === 404 ? new NotFoundError(message) : new BadGatewayError(message);
    }
    const size = Number(upstream.headers['content-length']);
    // no ETag before the bytes are seen when upstream gave no hash
    const head = sha256 ? bodyHeaders(nodeHeaderList(node), meta) : [...nodeHeaderList(node), 'Cache-Control', 'public, max-age=31536000, immutable'];
    const headers = [...head, 'Content-Type', meta.contentType, 'X-Accel-Buffering', 'no'];
    if (Number.isSafeInteger(size)) headers.push('Content-Length', String(size));
    res.writeHead(200, headers);
    try {
      const got = await streamWhileStoring(res, upstream, files, { ...(sha256 ? { sha256 } : {}), ...(Number.isSafeInteger(size) ? { size } : {}) }, req.method !== 'HEAD');
      await commit(got.size, got.sha256);
    } catch (err) {
      this.opts.log.warn({ file: link.filename, err: (err as Error).message }, 'mirror: file download failed verification or transfer; not stored');
    }
  }

  /** Serves a mirror link's PEP 658 metadata, fetched from upstream first when not stored. */
  async serveMetadata(req: IncomingMessage, res: ServerResponse, _stage: string, _project: string, link: MirrorLink): Promise<void> {
    const { files, node } = this.opts;
    const sha = link.core_metadata as string;
    if (!(await files.has(sha))) {
      if (this.opts.offline) throw new NotFoundError(`metadata of ${link.filename} is not cached and the server is offline`);
      let up;
      try {
        up = await getStream(`${link.url}.metadata`, this.timeoutMs);
      } catch (err) {
        throw new BadGatewayError(`fetching the metadata of ${link.filename} failed: ${(err as Error).message}`);
      }
      if (up.statusCode !== 200) {
        up.resume();
        throw new BadGatewayError(`upstream answered ${up.statusCode ?? '?'} for ${link.url}.metadata`);
      }
      try {
        await files.put(up, { expectedSha256: sha });
      } catch (err) {
        throw new BadGatewayError(`fetching the metadata of ${link.filename} failed: ${(err as Error).message}`);
      }
    }
    const st = await files.stat(sha);
    const meta = { etag: `"${sha}"`, modified: Date.now(), contentType: 'text/plain; charset=utf-8', caching: 'immutable' as const };
    return sendStoredBody(req, res, nodeHeaderList(node), { ...meta, path: files.pathFor(sha), size: st?.size ?? 0 }, () => {
      throw new NotFoundError('metadata vanished');
    });
  }

  /**
   * Serves the full project list: a mutable page (it changes at each refresh; ETag and
   * `max-age=0, must-revalidate`, 304 on a current validator), fetched first when never fetched.
   */
  async serveList(req: IncomingMessage, res: ServerResponse, stage: string, format: SimpleFormat): Promise<void> {
    const { node, files, changelog } = this.opts;
    const cfg = this.config(stage);
    let rec = changelog.get<MirrorListRecord>(keys.mirrorList(stage));
    const stale = !rec || Date.now() - rec.fetched > mirrorCacheExpiry(cfg) * 1000;
    if (stale && !this.opts.offline) {
      const work = this.refreshList(stage);
      if (!rec) {
        try {
          await work;
        } catch (err) {
          throw new BadGatewayError(`the project list of ${stage} was never fetched and upstream failed: ${(err as Error).message}`);
        }
        rec = changelog.get<MirrorListRecord>(keys.mirrorList(stage));
      } else work.catch(() => undefined);
    }
    if (!rec) throw new NotFoundError(`no project list cached for ${stage}`);
    return sendStoredPage(req, res, nodeHeaderList(node), mirrorListBody(files, rec, format), () => {
      throw new ServiceUnavailableError('the project list page is not on this node yet');
    });
  }

  /** Fetches the full project list streamed, stores it as two pages, commits their record. */
  refreshList(stage: string): Promise<void> {
    const running = this.listInflight.get(stage);
    if (running) return running;
    const work = (async () => {
      const cfg = this.config(stage);
      const breaker = this.breaker(stage);
      if (!breaker.allows()) throw new UpstreamError(`upstream ${cfg.mirror_url} is failing (${breaker.lastError ?? 'errors'})`);
      const names = new Set<string>();
      let got;
      try {
        got = await fetchProjectList(mirrorBaseUrl(cfg), this.timeoutMs, (n) => names.add(n));
        breaker.success();
      } catch (err) {
        breaker.failure((err as Error).message);
        throw err;
      }
      const sorted = [...names].sort();
      names.clear();
      const html = await this.opts.files.put(pageChunks(sorted, stage, 'html'));
      const json = await this.opts.files.put(pageChunks(sorted, stage, 'json'));
      const rec: MirrorListRecord = { html_sha256: html.sha256, json_sha256: json.sha256, html_size: html.size, json_size: json.size, count: sorted.length, fetched: Date.now() };
      if (got.etag) rec.etag = got.etag;
      await this.opts.changelog.write((tx) => tx.set(keys.mirrorList(stage), rec));
    })().finally(() => this.listInflight.delete(stage));
    this.listInflight.set(stage, work);
    return work;
  }

  /** Health of every mirror index. */
  health(): MirrorHealth[] {
    const out: MirrorHealth[] = [];
    const { changelog } = this.opts;
    for (const user of listUserNames(changelog)) {
      for (const key of changelog.children(keys.indexesOf(user))) {
        const cfg = changelog.get<MirrorConfig>(key);
        const k = parseKey(key);
        if (cfg?.type !== 'mirror' || k?.kind !== 'index') continue;
        const stage = stagePath(k.user, k.index);
        const b = this.breakers.get(stage);
        const list = changelog.get<MirrorListRecord>(keys.mirrorList(stage));
        out.push({
          stage,
          upstream: cfg.mirror_url,
          state: this.opts.offline ? 'offline' : !b ? 'ok' : !b.allows() ? 'circuit-open' : b.fails > 0 ? 'failing' : 'ok',
          fails: b?.fails ?? 0,
          lastError: b?.lastError ?? null,
          lastSuccess: b?.lastSuccess ? new Date(b.lastSuccess).toISOString() : null,
          cachedProjects: changelog.children(keys.mirrorProjectsOf(stage)).length,
          listCount: list?.count ?? null,
          listFetched: list ? new Date(list.fetched).toISOString() : null,
        });
      }
    }
    return out;
  }
}

/** The list page in chunks of a few thousand names (bounded memory while stored). */
async function* pageChunks(names: string[], stage: string, format: 'html' | 'json'): AsyncIterable<Uint8Array> {
  const CHUNK = 5_000;
  if (format === 'html') {
    yield Buffer.from(`<!DOCTYPE html>\n<html lang="en"><head><meta name="pypi:repository-version" content="1.1"><title>${escapeHtml(stage)}: simple list</title></head><body>\n`);
    for (let i = 0; i < names.length; i += CHUNK) {
      yield Buffer.from(names.slice(i, i + CHUNK).map((n) => `<a href="${escapeHtml(n)}/">${escapeHtml(n)}</a><br>\n`).join(''));
    }
    yield Buffer.from('</body></html>\n');
    return;
  }
  yield Buffer.from('{"meta":{"api-version":"1.1"},"projects":[');
  for (let i = 0; i < names.length; i += CHUNK) {
    yield Buffer.from((i ? ',' : '') + names.slice(i, i + CHUNK).map((n) => JSON.stringify({ name: n })).join(','));
  }
  yield Buffer.from(']}');
}

/** JSON with object keys sorted at every level (for comparing a stored value with a fresh one). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
