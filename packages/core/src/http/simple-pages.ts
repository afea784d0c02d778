/**
 * The simple repository API (PEP 503 HTML, PEP 691 JSON at api-version 1.1 with PEP 700 `versions`,
 * `size`, `upload-time` and PEP 658/714 core metadata) rendered once per (stage, project, format) and
 * cached until a commit touches that project name or any index config, so a page with thousands of
 * files is not recomputed per request. Pages link files relative to the page URL, so they are
 * right behind any proxy or path prefix.
 */
import { createHash } from 'node:crypto';
import type { ChangeRecord } from '@wheelhouse/changelog';
import type { ContentCoding } from '@wheelhouse/http';
import { mirrorPolicy, projectKnown, simpleFiles, simpleVersions, type MirrorPolicy, type SimpleFile } from '../model/mirrors.js';
import { resolutionOrder, stageProjectNames } from '../model/indexes.js';
import type { StateReader } from '../model/state.js';
import { parseKey } from '../model/keys.js';
import { escapeHtml } from './html.js';
import type { SimpleFormat } from './negotiate.js';

/** A rendered page: body bytes, a strong ETag, and its gzip/br variants once a request wanted them (http's EncodableBody). */
export interface RenderedPage {
  body: Buffer;
  etag: string;
  encoded?: Partial<Record<ContentCoding, Buffer>>;
}

/** What the page cache needs from the changelog. */
export interface PageSource extends StateReader {
  readonly head: number;
  onCommit(listener: (record: ChangeRecord) => void): () => void;
}

/** From `/{user}/{index}/+simple/{project}/` back to the server root. */
const TO_ROOT_FROM_PROJECT = '../../../../';

function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** Renders and caches simple pages (see module doc). */
export class SimplePages {
  /** serial of the last commit that touched any index config (bases, existence…) */
  private configSerial = 0;
  /** serial of the last commit that added or removed a project anywhere */
  private projectListSerial = 0;
  /** per normalised project name: serial of the last commit that touched it in any stage */
  private readonly projectSerial = new Map<string, number>();
  private readonly cache = new Map<string, { serial: number; value: RenderedPage | undefined }>();
  private readonly policies = new Map<string, { serial: number; value: MirrorPolicy }>();
  private readonly unsubscribe: () => void;
  /** Most cached pages kept (oldest dropped first). */
  private readonly maxEntries: number;

  constructor(
    private readonly source: PageSource,
    opts: { maxEntries?: number } = {},
  ) {
    this.maxEntries = opts.maxEntries ?? 20_000;
    this.unsubscribe = source.onCommit((record) => this.invalidate(record));
  }

  private invalidate(record: ChangeRecord): void {
    for (const { key } of record.changes) {
      const k = parseKey(key);
      switch (k?.kind) {
        case 'index':
        case 'user':
          this.configSerial = record.serial;
          break;
        case 'project':
          this.projectListSerial = record.serial;
          this.projectSerial.set(k.project, record.serial);
          break;
        case 'release':
        case 'mirror':
          this.projectSerial.set(k.project, record.serial);
          break;
      }
    }
  }

  private cached(key: string, validFrom: number, render: () => RenderedPage | undefined): RenderedPage | undefined {
    return this.kept(this.cache, key, validFrom, render);
  }

  /** The value kept in `map` under `key` when made at or after serial `validFrom`, else `make()`'s, kept (oldest dropped beyond maxEntries). */
  private kept<T>(map: Map<string, { serial: number; value: T }>, key: string, validFrom: number, make: () => T): T {
    const hit = map.get(key);
    if (hit && hit.serial >= validFrom) return hit.value;
    const serial = this.source.head;
    const value = make();
    map.delete(key);
    map.set(key, { serial, value });
    if (map.size > this.maxEntries) map.delete(map.keys().next().value!);
    return value;
  }

  /**
   * `mirrorPolicy(stage, project)` of the model (`project` normalised), kept with the same validity
   * as the project's pages (index configs and the project's own keys decide it): the read path asks
   * it on every simple page request. The object is shared: read-only.
   */
  mirrorPolicy(stage: string, project: string): Readonly<MirrorPolicy> {
    const validFrom = Math.max(this.configSerial, this.projectSerial.get(project) ?? 0);
    return this.kept(this.policies, `${stage}\0${project}`, validFrom, () => mirrorPolicy(this.source, stage, project));
  }

  /** The page of one project (`project` normalised), or undefined when no stage of the order has it. */
  projectPage(stage: string, project: string, format: SimpleFormat): RenderedPage | undefined {
    const validFrom = Math.max(this.configSerial, this.projectSerial.get(project) ?? 0);
    return this.cached(`p\0${stage}\0${project}\0${format}`, validFrom, () => {
      const policy = mirrorPolicy(this.source, stage, project);
      if (!projectKnown(this.source, stage, project, policy)) return undefined;
      const files = simpleFiles(this.source, stage, project, policy);
      const body =
        format === 'json'
          ? this.projectJson(project, files, simpleVersions(this.source, stage, project, files, policy))
          : this.projectHtml(stage, project, files);
      return { body, etag: etagOf(body) };
    });
  }

  /** The project list of a stage, inherited projects included (each name once, sorted). */
  indexPage(stage: string, format: SimpleFormat): RenderedPage {
    const validFrom = Math.max(this.configSerial, this.projectListSerial);
    return this.cached(`i\0${stage}\0${format}`, validFrom, () => {
      const names = new Set<string>();
      for (const s of resolutionOrder(this.source, stage)) for (const p of stageProjectNames(this.source, s)) names.add(p);
      const sorted = [...names].sort();
      let body: Buffer;
      if (format === 'json') {
        body = Buffer.from(JSON.stringify({ meta: { 'api-version': '1.1' }, projects: sorted.map((name) => ({ name })) }));
      } else {
        const lines = sorted.map((n) => `<a href="${escapeHtml(n)}/">${escapeHtml(n)}</a><br>`);
        body = Buffer.from(
          `<!DOCTYPE html>\n<html lang="en"><head><meta name="pypi:repository-version" content="1.1"><title>${escapeHtml(stage)}: simple list (including inherited indices)</title></head><body>\n${lines.join('\n')}\n</body></html>\n`,
        );
      }
      return { body, etag: etagOf(body) };
    })!;
  }

  private projectHtml(stage: string, project: string, files: SimpleFile[]): Buffer {
    const out: string[] = [
      `<!DOCTYPE html>\n<html lang="en"><head><meta name="pypi:repository-version" content="1.1"><title>${escapeHtml(stage)}: links for ${escapeHtml(project)}</title></head><body><h1>${escapeHtml(stage)}: links for ${escapeHtml(project)}</h1>`,
    ];
    for (const f of files) {
      let attrs = '';
      if (f.requires_python) attrs += ` data-requires-python="${escapeHtml(f.requires_python)}"`;
      if (f.yanked) attrs += ` data-yanked="${typeof f.yanked === 'string' ? escapeHtml(f.yanked) : ''}"`;
      if (f.metadata_sha256) attrs += ` data-dist-info-metadata="sha256=${f.metadata_sha256}" data-core-metadata="sha256=${f.metadata_sha256}"`;
      const href = f.absolute ? f.href : TO_ROOT_FROM_PROJECT + encodePath(f.href);
      out.push(`${escapeHtml(f.stage)} <a href="${escapeHtml(href)}${f.sha256 ? `#sha256=${f.sha256}` : ''}"${attrs}>${escapeHtml(f.filename)}</a><br>`);
    }
    out.push('</body></html>\n');
    return Buffer.from(out.join('\n'));
  }

  private projectJson(project: string, files: SimpleFile[], versions: string[]): Buffer {
    const list = files.map((f) => {
      const meta = f.metadata_sha256 ? { sha256: f.metadata_sha256 } : false;
      const file: Record<string, unknown> = {
        filename: f.filename,
        url: f.absolute ? f.href : TO_ROOT_FROM_PROJECT + encodePath(f.href),
        hashes: f.sha256 ? { sha256: f.sha256 } : {},
      };
      if (f.requires_python) file['requires-python'] = f.requires_python;
      if (f.yanked) file['yanked'] = f.yanked;
      if (f.size !== undefined) file['size'] = f.size;
      if (f.upload_time) file['upload-time'] = f.upload_time;
      file['core-metadata'] = meta;
      file['data-dist-info-metadata'] = meta;
      return file;
    });
    return Buffer.from(JSON.stringify({ meta: { 'api-version': '1.1' }, name: project, versions, files: list }));
  }

  /** Stops listening to commits. */
  close(): void {
    this.unsubscribe();
  }
}

/** Percent-encodes each path segment (file names may hold `+` or spaces). */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((seg) => (seg === '+f' ? seg : encodeURIComponent(seg)))
    .join('/');
}
