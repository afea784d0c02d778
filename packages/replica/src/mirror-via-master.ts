/**
 * Mirror indexes on a replica (`MirrorAccess`): the replica never talks to upstream. Cached pages
 * and files come from its own state (replicated from the master); a page never fetched is asked of
 * the master — which fetches and commits it — and served once the replica has applied that commit;
 * a stale page triggers the same request in the background. A mirror file not here yet is fetched
 * through the master's `+f` URL (the master caches it from upstream) and streamed to the client
 * while stored (devpi #483). With the master down, what is cached keeps being served.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Changelog, FileStore } from '@wheelhouse/changelog';
import {
  BadGatewayError,
  NotFoundError,
  encodePath,
  entrypathFor,
  getIndex,
  getMirrorProject,
  keys,
  mirrorCacheExpiry,
  mirrorLinkEntrypath,
  mirrorListBody,
  splitStage,
  streamWhileStoring,
  type MirrorAccess,
  type MirrorLink,
  type MirrorListRecord,
  type PrepareOutcome,
  type SimpleFormat,
} from '@wheelhouse/core';
import { bodyHeaders, contentTypeFor, isNotModified, nodeHeaderList, sendStoredBody, sendStoredPage, type BodyMeta, type NodeInfo } from '@wheelhouse/http';
import type { MasterClient } from '@wheelhouse/replication';

/** Timeout of a page request to the master (which may have to ask upstream), ms. */
const PAGE_TIMEOUT_MS = 30_000;


/** The replica's mirror access (see module doc). */
export class MirrorViaMaster implements MirrorAccess {
  private readonly inflight = new Map<string, Promise<PrepareOutcome>>();
  /** the last failed request to the master per page (cleared by a success) */
  private readonly failures = new Map<string, string>();

  constructor(
    private readonly changelog: Changelog,
    private readonly files: FileStore,
    private readonly master: MasterClient,
    private readonly node: NodeInfo,
    private readonly log: Logger,
  ) {}

  prepare(stage: string, project: string): Promise<PrepareOutcome> | PrepareOutcome | undefined {
    const [u, i] = splitStage(stage);
    const cfg = getIndex(this.changelog, u, i);
    if (cfg?.type !== 'mirror') return undefined;
    const rec = getMirrorProject(this.changelog, stage, project);
    if (rec) {
      if (Date.now() - rec.fetched <= mirrorCacheExpiry(cfg) * 1000) return undefined;
      void this.askMaster(stage, project);
      const failure = this.failures.get(`${stage}\0${project}`);
      return failure ? { stale: `the master could not be asked for a fresh page (${failure}); page cached ${new Date(rec.fetched).toISOString()}` } : undefined;
    }
    return this.askMaster(stage, project);
  }

  /** Asks the master for the page (it fetches and commits) and waits until that commit is applied here. */
  private askMaster(stage: string, project: string): Promise<PrepareOutcome> {
    const key = `${stage}\0${project}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const work = (async (): Promise<PrepareOutcome> => {
      try {
        const res = await this.master.get(`/${stage}/+simple/${encodeURIComponent(project)}/`, PAGE_TIMEOUT_MS);
        const text = await res.body.text();
        const serial = Number(res.headers['x-devpi-serial']);
        if (Number.isSafeInteger(serial)) await this.changelog.waitForSerial(serial, 10_000);
        this.failures.delete(key);
        if (res.statusCode === 502) {
          let message = text;
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            // keep the text
          }
          return { error: message };
        }
        return {};
      } catch (err) {
        this.failures.set(key, (err as Error).message);
        this.log.warn({ stage, project, err: (err as Error).message }, 'mirror page: master unreachable');
        return getMirrorProject(this.changelog, stage, project)
          ? { stale: `the master is unreachable (${(err as Error).message})` }
          : { error: `${project} is not cached on this replica and the master is unreachable: ${(err as Error).message}` };
      }
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, work);
    return work;
  }

  /** The master's own `message` of an error answer (devpi's JSON), passed on as is; else `the master answered N`. */
  private static masterMessage(status: number, text: string): string {
    try {
      const message = (JSON.parse(text) as { message?: unknown }).message;
      if (typeof message === 'string' && message) return message;
    } catch {
      // not JSON
    }
    return `the master answered ${status}`;
  }

  /** An error for a failed answer of the master: its 404 stays a 404, anything else is a bad gateway. */
  private static masterError(status: number, message: string): Error {
    return status === 404 ? new NotFoundError(message) : new BadGatewayError(message);
  }

  /** Streams a file from the master to the client while storing it; rejects while nothing was sent. */
  private async relay(req: IncomingMessage, res: ServerResponse, path: string, filename: string, expect: { sha256?: string; size?: number }): Promise<void> {
    let upstream;
    try {
      upstream = await this.master.get(path, 120_000);
    } catch (err) {
      throw new BadGatewayError(`${filename} is not yet on this replica and the master is unreachable: ${(err as Error).message}`);
    }
    if (upstream.statusCode !== 200) {
      const text = await upstream.body.text().catch(() => '');
      throw MirrorViaMaster.masterError(upstream.statusCode, `${filename}: received ${upstream.statusCode} from master: ${MirrorViaMaster.masterMessage(upstream.statusCode, text)}`);
    }
    const length = Number(upstream.headers['content-length']);
    const meta = { etag: `"${expect.sha256 ?? ''}"`, contentType: contentTypeFor(filename), caching: 'immutable' as const };
    // no ETag before the bytes are seen when upstream gave no hash
    const head = expect.sha256 ? bodyHeaders(nodeHeaderList(this.node), meta) : [...nodeHeaderList(this.node), 'Cache-Control', 'public, max-age=31536000, immutable'];
    const headers = [...head, 'Content-Type', meta.contentType];
    if (Number.isSafeInteger(length)) headers.push('Content-Length', String(length));
    res.writeHead(200, headers);
    try {
      await streamWhileStoring(res, upstream.body, this.files, { ...expect, ...(Number.isSafeInteger(length) ? { size: length } : {}) }, req.method !== 'HEAD');
    } catch (err) {
      this.log.warn({ file: filename, err: (err as Error).message }, 'mirror file through the master failed');
    }
  }

  serveFile(req: IncomingMessage, res: ServerResponse, stage: string, _project: string, link: MirrorLink): Promise<void> {
    // a hashless link is asked for at the master's `+e/…` path (where the master stores it once fetched)
    const path = `/${encodePath(mirrorLinkEntrypath(stage, link)).replace('/%2Be/', '/+e/')}`;
    return this.relay(req, res, path, link.filename, link.sha256 ? { sha256: link.sha256 } : {});
  }

  async serveMetadata(req: IncomingMessage, res: ServerResponse, stage: string, _project: string, link: MirrorLink): Promise<void> {
    const sha = link.core_metadata as string;
    const st = await this.files.stat(sha);
    if (st) {
      const meta = { etag: `"${sha}"`, modified: Date.now(), contentType: 'text/plain; charset=utf-8', caching: 'immutable' as const };
      return sendStoredBody(req, res, nodeHeaderList(this.node), { ...meta, path: this.files.pathFor(sha), size: st.size }, () => {
        throw new NotFoundError('metadata vanished');
      });
    }
    return this.relay(req, res, `/${encodePath(entrypathFor(stage, link.sha256!, link.filename))}.metadata`, `${link.filename}.metadata`, { sha256: sha });
  }

  /**
   * Serves a mirror's project list: the replicated page when here (mutable: ETag, revalidated),
   * else relayed from the master with the master's validators.
   */
  serveList(req: IncomingMessage, res: ServerResponse, stage: string, format: SimpleFormat): Promise<void> {
    const rec = this.changelog.get<MirrorListRecord>(keys.mirrorList(stage));
    if (!rec) return this.relayList(req, res, stage);
    return sendStoredPage(req, res, nodeHeaderList(this.node), mirrorListBody(this.files, rec, format), () => this.relayList(req, res, stage));
  }

  /** Relays the master's list page (not replicated here yet), passing its validators on. */
  private async relayList(req: IncomingMessage, res: ServerResponse, stage: string): Promise<void> {
    let up;
    try {
      up = await this.master.get(`/${stage}/+simple/`, 300_000);
    } catch (err) {
      throw new BadGatewayError(`the project list of ${stage} is not on this replica and the master is unreachable: ${(err as Error).message}`);
    }
    if (up.statusCode !== 200) {
      const text = await up.body.text().catch(() => '');
      throw MirrorViaMaster.masterError(up.statusCode, MirrorViaMaster.masterMessage(up.statusCode, text));
    }
    const etag = up.headers['etag'];
    const modified = Date.parse(String(up.headers['last-modified'] ?? ''));
    const meta: BodyMeta = {
      etag: typeof etag === 'string' ? etag : '""',
      ...(Number.isFinite(modified) ? { modified } : {}),
      contentType: String(up.headers['content-type'] ?? 'text/html'),
      caching: 'mutable',
      vary: 'Accept',
    };
    const headers = bodyHeaders(nodeHeaderList(this.node), meta);
    if (isNotModified(req, meta)) {
      await up.body.dump();
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, [...headers, 'Content-Type', meta.contentType]);
    if (req.method === 'HEAD') await up.body.dump();
    else for await (const chunk of up.body) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    res.end();
  }
}
