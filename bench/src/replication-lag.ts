/**
 * Upload-to-visible lag: uploads new small sdists to the master one at a time (login token); after
 * each upload's response has been read, GETs the replica's simple page of that project back to back
 * on one keep-alive connection (no sleeps) until the new filename appears. The lag is from the end
 * of the upload response to the end of the first page response that lists the file, so it includes
 * one page round trip (measured apart as `pollMs`).
 */
import { Client } from 'undici';
import { sdist, type ReleaseFile } from './release-files.js';
import { multipartBody } from './upload-runner.js';

export interface LagSettings {
  readonly masterUrl: string;
  readonly replicaUrl: string;
  /** e.g. `/bench/dev/` */
  readonly indexPath: string;
  readonly authHeaders: Record<string, string>;
  readonly uploads: number;
  /** Uploads are spread round-robin over this many new projects (the first upload of each creates it). */
  readonly projects: number;
  /** Give up on one file after this long. */
  readonly perFileTimeoutMs: number;
}

export interface LagOutcome {
  /** Upload response → visible on the replica, ms, one per file that became visible. */
  readonly lagsMs: number[];
  /** Upload response → start of the page GET that first listed the file, ms (a floor: the poll before it did not list it). */
  readonly lagFloorsMs: number[];
  /** Upload round trips, ms. */
  readonly uploadMs: number[];
  /** Round trip of one replica page GET, ms (every poll). */
  readonly pollMs: number[];
  /** Files visible at the first poll. */
  readonly firstPollHits: number;
  readonly polls: number;
  /** Files that never became visible within the per-file timeout. */
  readonly neverVisible: number;
  readonly errors: Map<string, number>;
}

export function lagFiles(count: number, projects: number): ReleaseFile[] {
  return Array.from({ length: count }, (_, i) => sdist(`lag-proj-${String(i % projects).padStart(2, '0')}`, `1.0.${Math.floor(i / projects)}`, 2048));
}

export async function measureUploadLag(s: LagSettings): Promise<LagOutcome> {
  const files = lagFiles(s.uploads, s.projects);
  const bodies = files.map(multipartBody);
  const master = new Client(s.masterUrl, { keepAliveTimeout: 60_000 });
  const replica = new Client(s.replicaUrl, { keepAliveTimeout: 60_000 });
  const lagsMs: number[] = [];
  const lagFloorsMs: number[] = [];
  const uploadMs: number[] = [];
  const pollMs: number[] = [];
  const errors = new Map<string, number>();
  const err = (key: string): void => void errors.set(key, (errors.get(key) ?? 0) + 1);
  let polls = 0;
  let firstPollHits = 0;
  let neverVisible = 0;
  try {
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      const { contentType, body } = bodies[i]!;
      const t0 = performance.now();
      const up = await master.request({ path: s.indexPath, method: 'POST', headers: { 'content-type': contentType, ...s.authHeaders }, body });
      const upText = await up.body.text();
      const uploaded = performance.now();
      if (up.statusCode !== 200) {
        err(`upload ${up.statusCode} ${upText.slice(0, 160)}`);
        continue;
      }
      uploadMs.push(uploaded - t0);
      const page = `${s.indexPath}+simple/${file.name}/`;
      let seen = false;
      for (let attempt = 0; performance.now() - uploaded < s.perFileTimeoutMs; attempt++) {
        const p0 = performance.now();
        const res = await replica.request({ path: page, method: 'GET' });
        const text = await res.body.text();
        const p1 = performance.now();
        polls++;
        pollMs.push(p1 - p0);
        if (res.statusCode === 200 && text.includes(file.filename)) {
          lagsMs.push(p1 - uploaded);
          lagFloorsMs.push(p0 - uploaded);
          if (attempt === 0) firstPollHits++;
          seen = true;
          break;
        }
        if (res.statusCode !== 200 && res.statusCode !== 404) err(`replica page ${res.statusCode} ${text.slice(0, 120)}`);
      }
      if (!seen) neverVisible++;
    }
  } finally {
    await Promise.all([master.close(), replica.close()]);
  }
  return { lagsMs, lagFloorsMs, uploadMs, pollMs, firstPollHits, polls, neverVisible, errors };
}
