/**
 * The simple repository API (PEP 503 HTML, PEP 691 JSON at api-version 1.1 with PEP 700 `versions`,
 * `size`, `upload-time` and PEP 658/714 core metadata) rendered once per (stage, project, format) and
 * cached until a commit touches that project name or any index config, so a page with thousands of
 * files is not recomputed per request. Pages link files relative to the page URL, so they are
 * right behind any proxy or path prefix.
 */
import { createHash } from 'node:crypto';
import type { ChangeRecord } from '@wheelhouse/changelog';
import { mergedVersions, projectExists, simpleLinks } from '../model/releases.js';
import { resolutionOrder, stageProjectNames } from '../model/indexes.js';
import type { StateReader } from '../model/state.js';
import { escapeHtml } from './html.js';
import type { SimpleFormat } from './negotiate.js';

/** A rendered page: body bytes and a strong ETag. */
export interface RenderedPage {
  body: Buffer;
  etag: string;
}

/** What the page cache needs from the changelog. */
export interface PageSource extends StateReader {
  readonly head: number;
  onCommit(listener: (record: ChangeRecord) => void): () => void;
}

/** From `/{user}/{index}/+simple/{project}/` back to the server root. */
const TO_ROOT_FROM_PROJECT = '../../../../';

/** PEP 700 `upload-time`: `yyyy-mm-ddThh:mm:ss.ffffffZ`. */
function uploadTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

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
  private readonly cache = new Map<string, { serial: number; page: RenderedPage | undefined }>();
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
      const parts = key.split('/');
      switch (parts[0]) {
        case 'index':
        case 'user':
          this.configSerial = record.serial;
          break;
        case 'project':
          this.projectListSerial = record.serial;
          this.projectSerial.set(parts[3]!, record.serial);
          break;
        case 'release':
          this.projectSerial.set(parts[3]!, record.serial);
          break;
      }
    }
  }

  private cached(key: string, validFrom: number, render: () => RenderedPage | undefined): RenderedPage | undefined {
    const hit = this.cache.get(key);
    if (hit && hit.serial >= validFrom) return hit.page;
    const serial = this.source.head;
    const page = render();
    this.cache.delete(key);
    this.cache.set(key, { serial, page });
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    return page;
  }

  /** The page of one project (`project` normalised), or undefined when no stage of the order has it. */
  projectPage(stage: string, project: string, format: SimpleFormat): RenderedPage | undefined {
    const validFrom = Math.max(this.configSerial, this.projectSerial.get(project) ?? 0);
    return this.cached(`p\0${stage}\0${project}\0${format}`, validFrom, () => {
      if (!projectExists(this.source, stage, project)) return undefined;
      const body = format === 'json' ? this.projectJson(stage, project) : this.projectHtml(stage, project);
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

  private projectHtml(stage: string, project: string): Buffer {
    const out: string[] = [
      `<!DOCTYPE html>\n<html lang="en"><head><meta name="pypi:repository-version" content="1.1"><title>${escapeHtml(stage)}: links for ${escapeHtml(project)}</title></head><body><h1>${escapeHtml(stage)}: links for ${escapeHtml(project)}</h1>`,
    ];
    for (const { stage: from, link } of simpleLinks(this.source, stage, project)) {
      let attrs = '';
      if (link.requires_python) attrs += ` data-requires-python="${escapeHtml(link.requires_python)}"`;
      if (link.metadata_sha256) attrs += ` data-dist-info-metadata="sha256=${link.metadata_sha256}" data-core-metadata="sha256=${link.metadata_sha256}"`;
      out.push(
        `${escapeHtml(from)} <a href="${TO_ROOT_FROM_PROJECT}${escapeHtml(encodePath(link.entrypath))}#sha256=${link.sha256}"${attrs}>${escapeHtml(link.filename)}</a><br>`,
      );
    }
    out.push('</body></html>\n');
    return Buffer.from(out.join('\n'));
  }

  private projectJson(stage: string, project: string): Buffer {
    const files = simpleLinks(this.source, stage, project).map(({ link }) => {
      const meta = link.metadata_sha256 ? { sha256: link.metadata_sha256 } : false;
      const file: Record<string, unknown> = {
        filename: link.filename,
        url: TO_ROOT_FROM_PROJECT + encodePath(link.entrypath),
        hashes: { sha256: link.sha256 },
      };
      if (link.requires_python) file['requires-python'] = link.requires_python;
      file['size'] = link.size;
      file['upload-time'] = uploadTime(link.uploaded);
      file['core-metadata'] = meta;
      file['data-dist-info-metadata'] = meta;
      return file;
    });
    return Buffer.from(
      JSON.stringify({ meta: { 'api-version': '1.1' }, name: project, versions: mergedVersions(this.source, stage, project), files }),
    );
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
