/**
 * Full-text search over the projects of every stage index (`minisearch`, BM25 ranking): one document
 * per (index, project) with the project's name, and the summary, description and keywords of its
 * latest version in that index. The index follows the changelog: `onCommit` only marks the touched
 * (index, project) pairs, and a background pump (at most ~8 ms per event-loop turn)
 * re-reads them from the state, so commits and requests never wait for it — on the master and on
 * replicas alike (replicas commit what they apply). The first build runs the same way.
 *
 * Every index is readable by everyone (devpi has no read permissions without plugins), so search
 * covers all indexes.
 */
import MiniSearch, { type SearchResult } from 'minisearch';
import type { ChangeRecord } from '@wheelhouse/changelog';
import { getIndex, stageProjectNames } from '../model/indexes.js';
import type { ReleaseRecord } from '../model/records.js';
import { keys, lastSegment, parseKey } from '../model/keys.js';
import { splitStage, stagePath } from '../model/stage-paths.js';
import { getProject } from '../model/releases.js';
import type { StateReader } from '../model/state.js';
import { listIndexNames, listUserNames } from '../model/users.js';
import { latestVersion } from '../versions.js';
import { normalizeProjectName } from '../names.js';

/** What the search index needs from the changelog. */
export interface SearchSource extends StateReader {
  onCommit(listener: (record: ChangeRecord) => void): () => void;
}

/** One hit. */
export interface SearchHit {
  /** `user/index` */
  stage: string;
  /** normalised name */
  project: string;
  /** name as uploaded */
  name: string;
  /** latest version in that index ('' when it has none) */
  version: string;
  summary: string;
  score: number;
}

/** Result of a query. */
export interface SearchAnswer {
  hits: SearchHit[];
  /** hits before the limit */
  total: number;
  /** true while changes (or the first build) are still being indexed */
  updating: boolean;
}

interface SearchDoc {
  id: string;
  stage: string;
  project: string;
  name: string;
  version: string;
  summary: string;
  description: string;
  keywords: string;
}

/** Longest part of a description that is indexed (characters). */
const DESCRIPTION_CHARS = 8_000;
/** Longest time one event-loop turn spends indexing (ms), so requests are not held up. */
const SLICE_MS = 8;
const STOP_WORDS = new Set(['a', 'an', 'and', 'are', 'as', 'at', 'be', 'by', 'for', 'from', 'in', 'is', 'it', 'of', 'on', 'or', 'that', 'the', 'this', 'to', 'with']);

function processTerm(term: string): string | null {
  const t = term.toLowerCase();
  return t.length === 0 || STOP_WORDS.has(t) ? null : t;
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string').join(' ');
  return '';
}

/** The search index (see module doc). */
export class SearchIndex {
  private readonly mini: MiniSearch<SearchDoc>;
  /** `stage\0project` pairs waiting to be (re)indexed */
  private readonly queue = new Set<string>();
  private scheduled = false;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly source: SearchSource) {
    this.mini = new MiniSearch<SearchDoc>({
      fields: ['name', 'keywords', 'summary', 'description'],
      storeFields: ['stage', 'project', 'name', 'version', 'summary'],
      processTerm,
      searchOptions: { processTerm },
      autoVacuum: { minDirtCount: 200, minDirtFactor: 0.1, batchSize: 1000, batchWait: 10 },
    });
    this.unsubscribe = source.onCommit((record) => this.onCommit(record));
    for (const user of listUserNames(source)) {
      for (const index of listIndexNames(source, user)) {
        const stage = `${user}/${index}`;
        for (const project of stageProjectNames(source, stage)) this.queue.add(`${stage}\0${project}`);
      }
    }
    this.schedule();
  }

  /** True while changes are waiting to be indexed. */
  get updating(): boolean {
    return this.queue.size > 0;
  }

  /** Documents indexed. */
  get size(): number {
    return this.mini.documentCount;
  }

  private onCommit(record: ChangeRecord): void {
    for (const { key } of record.changes) {
      const k = parseKey(key);
      if (k?.kind === 'project' || k?.kind === 'release') this.queue.add(`${stagePath(k.user, k.index)}\0${k.project}`);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.closed || this.queue.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump(Number.POSITIVE_INFINITY, performance.now() + SLICE_MS);
      this.schedule();
    });
  }

  /** Indexes up to `max` queued pairs now, stopping at `deadline` (performance.now() ms). */
  private pump(max: number, deadline = Number.POSITIVE_INFINITY): void {
    if (this.closed) return;
    let n = 0;
    for (const item of this.queue) {
      if (n++ >= max || (n % 16 === 0 && performance.now() > deadline)) break;
      this.queue.delete(item);
      const [stage, project] = item.split('\0') as [string, string];
      try {
        this.refresh(stage, project);
      } catch {
        // a store closed under us (replica generation swap): nothing left to index
        this.queue.clear();
        return;
      }
    }
  }

  /** Indexes everything queued, synchronously (tests, benchmarks). */
  flush(): void {
    this.pump(Number.POSITIVE_INFINITY);
  }

  private refresh(stage: string, project: string): void {
    const id = `${stage}/${project}`;
    const [user, index] = splitStage(stage);
    const rec = getIndex(this.source, user, index) ? getProject(this.source, stage, project) : undefined;
    if (this.mini.has(id)) this.mini.discard(id);
    if (!rec) return;
    // unsorted: latestVersion is one pass, a sort of thousands of PEP 440 versions per upload is not
    const version = latestVersion(this.source.children(keys.releasesOf(stage, project)).map(lastSegment)) ?? '';
    const meta = version ? this.source.get<ReleaseRecord>(keys.release(stage, project, version))?.metadata : undefined;
    this.mini.add({
      id,
      stage,
      project,
      name: rec.display_name,
      version,
      summary: str(meta?.['summary']),
      description: str(meta?.['description']).slice(0, DESCRIPTION_CHARS),
      keywords: str(meta?.['keywords']).replace(/,/g, ' '),
    });
  }

  /**
   * Ranked hits for `query` (at most `limit`), of the indexes `visible` accepts (default: all; the
   * web router passes who may read them, `read-access.ts`). All words must match (the last word also matches as
   * the start of a longer one, words of six letters or more allow one typo); when nothing matches
   * all, any word will do. Names, keywords and summaries are searched first; descriptions (most of
   * the text, so most of the cost) only when those give fewer than `limit` hits — a match in the
   * metadata always outranks one found only in a description.
   */
  search(query: string, limit = 50, visible?: (stage: string) => boolean): SearchAnswer {
    const q = query.trim().slice(0, 200);
    if (!q) return { hits: [], total: 0, updating: this.updating };
    const base = {
      boost: { name: 6, keywords: 2, summary: 2, description: 1 },
      // the last word may be unfinished; expanding every word would cost more than it finds
      prefix: (term: string, i: number, terms: string[]) => i === terms.length - 1 && term.length >= 3,
      fuzzy: (term: string) => (term.length >= 6 ? 1 : false),
      maxFuzzy: 1,
      weights: { fuzzy: 0.3, prefix: 0.6 },
      // hits of indexes the asker may not read are dropped before counting and ranking
      ...(visible ? { filter: (r: SearchResult) => visible(String(r['stage'])) } : {}),
    };
    const run = (fields: string[]): SearchResult[] => {
      let r = this.mini.search(q, { ...base, fields, combineWith: 'AND' });
      if (r.length === 0) r = this.mini.search(q, { ...base, fields, combineWith: 'OR' });
      return r;
    };
    let results = run(['name', 'keywords', 'summary']);
    if (results.length < limit) {
      const seen = new Set(results.map((r) => r.id as string));
      const more = run(['name', 'keywords', 'summary', 'description']).filter((r) => !seen.has(r.id as string));
      // description-only hits rank after every metadata hit
      const floor = Math.min(...results.map((r) => r.score), Number.POSITIVE_INFINITY);
      const top = Math.max(...more.map((r) => r.score), 0);
      if (results.length && top >= floor) for (const r of more) r.score *= (floor * 0.99) / top;
      results = [...results, ...more];
    }
    // a project named like the query (or like its first word) first
    const exact = normalizeProjectName(q);
    const first = exact.split('-')[0] ?? '';
    const rank = (r: SearchResult): number => {
      const name = String(r['project']);
      return name === exact ? 1e9 + r.score : name === first || name.startsWith(`${first}-`) ? r.score * 1.5 : r.score;
    };
    results.sort((a, b) => rank(b) - rank(a));
    return {
      total: results.length,
      updating: this.updating,
      hits: results.slice(0, limit).map((r) => ({
        stage: String(r['stage']),
        project: String(r['project']),
        name: String(r['name']),
        version: String(r['version']),
        summary: String(r['summary']),
        score: r.score,
      })),
    };
  }

  /** Stops following the changelog. */
  close(): void {
    this.closed = true;
    this.queue.clear();
    this.unsubscribe();
  }
}
