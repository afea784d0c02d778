// A bounded, seeded, randomized write workload for the replication tests: a fixed number of writes
// (users, indexes with bases, index PATCHes, small sdist uploads, version/project deletes with
// ?force, pushes, index and user deletes) spread over the master and its replicas by a few
// concurrent workers. Each worker owns one user and its indexes and keeps a model of them, so every
// write has a known expected status: a write that gets anything else (a 5xx from a replica above
// all) is reported. The same seed gives the same sequence of decisions per worker.
import { randomBytes } from 'node:crypto';
import { ApiClient, describeResponse, type ApiResponse, type Credentials } from '@wheelhouse/testing';
import { legacyUpload } from './legacy-upload.js';

/** mulberry32: a small seeded PRNG (deterministic decisions; file bytes are random anyway). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadTarget {
  readonly name: string;
  readonly url: string;
}

export interface WorkloadOptions {
  /** Nodes to send writes to (master and replicas), picked at random per write. */
  readonly targets: readonly WorkloadTarget[];
  /** The master's URL (logins go there). */
  readonly masterUrl: string;
  readonly rootPassword: string;
  /** Total number of write requests. */
  readonly writes: number;
  /** Concurrent workers (each owns one user). */
  readonly workers: number;
  readonly seed: number;
  /** Prefix of user names (unique per run). */
  readonly prefix: string;
}

export interface WorkloadReport {
  readonly writes: number;
  readonly byKind: Record<string, number>;
  readonly byTarget: Record<string, number>;
  /** Writes that did not get their expected status. */
  readonly unexpected: string[];
  readonly durationMs: number;
}

interface IndexModel {
  readonly name: string;
  volatile: boolean;
  bases: string[];
  /** project → versions with one file each */
  readonly releases: Map<string, Set<string>>;
}

type Op = 'upload' | 'patchIndex' | 'push' | 'deleteVersion' | 'createIndex' | 'deleteProject' | 'deleteIndex' | 'createUser' | 'patchUser' | 'deleteUser';

const WEIGHTS: ReadonlyArray<readonly [Op, number]> = [
  ['upload', 34], ['patchIndex', 12], ['push', 12], ['deleteVersion', 10], ['createIndex', 8], ['deleteProject', 4],
  ['deleteIndex', 3], ['createUser', 5], ['patchUser', 6], ['deleteUser', 6],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((n, [, w]) => n + w, 0);
const MAX_INDEXES = 6;

function indexConfigResult(res: ApiResponse): { bases: string[]; volatile: boolean } | undefined {
  const j = res.json as { result?: { bases?: unknown; volatile?: unknown } } | undefined;
  const r = j?.result;
  if (!r || !Array.isArray(r.bases) || typeof r.volatile !== 'boolean') return undefined;
  return { bases: r.bases.map(String), volatile: r.volatile };
}

/** Runs the workload (see module doc). Never throws for an unexpected status: it is reported. */
export async function runWorkload(opts: WorkloadOptions): Promise<WorkloadReport> {
  const started = Date.now();
  let tickets = opts.writes;
  const take = (): boolean => {
    if (tickets <= 0) return false;
    tickets--;
    return true;
  };
  const byKind: Record<string, number> = {};
  const byTarget: Record<string, number> = {};
  const unexpected: string[] = [];
  const master = new ApiClient(opts.masterUrl);
  const rootToken = await master.login('root', opts.rootPassword);
  const rootAuth: Credentials = { user: 'root', token: rootToken };

  const worker = async (w: number): Promise<void> => {
    const rnd = seededRandom(opts.seed * 1000 + w);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const user = `${opts.prefix}${w}`;
    const password = `pw-${user}`;
    const indexes: IndexModel[] = [];
    const extraUsers: string[] = [];
    let counter = 0;
    let auth: Credentials | undefined;

    /** Sends one write to a random target and checks its status. */
    const write = async (kind: Op | 'setup', expected: readonly number[], send: (target: WorkloadTarget) => Promise<ApiResponse>): Promise<ApiResponse | undefined> => {
      const target = pick(opts.targets);
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      byTarget[target.name] = (byTarget[target.name] ?? 0) + 1;
      let res: ApiResponse;
      try {
        res = await send(target);
      } catch (err) {
        unexpected.push(`${user} ${kind} via ${target.name}: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
      if (!expected.includes(res.status)) {
        unexpected.push(`${user} ${kind} via ${target.name}: expected ${expected.join('/')}, got ${describeResponse(res).slice(0, 300)}`);
        return undefined;
      }
      return res;
    };
    const api = (target: WorkloadTarget, a: Credentials | undefined = auth): ApiClient => new ApiClient(target.url, a);

    // setup: the worker's user and first index (both count as writes)
    if (!take()) return;
    if (!(await write('setup', [201], (t) => api(t, undefined).put(`/${user}`, { password, email: `${user}@example.invalid` })))) return;
    auth = { user, token: await master.login(user, password) };
    if (!take()) return;
    if (!(await write('setup', [200, 201], (t) => api(t).put(`/${user}/ix0`, {})))) return;
    indexes.push({ name: 'ix0', volatile: true, bases: [], releases: new Map() });
    let nextIndex = 1;

    const inheritsFrom = (from: IndexModel, ancestor: IndexModel, seen = new Set<IndexModel>()): boolean => {
      if (seen.has(from)) return false;
      seen.add(from);
      for (const b of from.bases) {
        const base = indexes.find((o) => `${user}/${o.name}` === b);
        if (base && (base === ancestor || inheritsFrom(base, ancestor, seen))) return true;
      }
      return false;
    };

    const withReleases = (): Array<[IndexModel, string, string]> => {
      const out: Array<[IndexModel, string, string]> = [];
      for (const ix of indexes) for (const [p, vs] of ix.releases) for (const v of vs) out.push([ix, p, v]);
      return out;
    };

    while (take()) {
      let r = rnd() * TOTAL_WEIGHT;
      let op: Op = 'upload';
      for (const [o, wt] of WEIGHTS) {
        if (r < wt) {
          op = o;
          break;
        }
        r -= wt;
      }
      const releases = withReleases();
      const deletable = indexes.filter((ix) => ix.volatile && indexes.length > 1 && !indexes.some((o) => o.bases.includes(`${user}/${ix.name}`)));
      if ((op === 'push' || op === 'deleteVersion' || op === 'deleteProject') && releases.length === 0) op = 'upload';
      if (op === 'createIndex' && indexes.length >= MAX_INDEXES) op = 'patchIndex';
      if (op === 'deleteIndex' && deletable.length === 0) op = 'patchIndex';
      if (op === 'deleteUser' && extraUsers.length === 0) op = 'createUser';

      switch (op) {
        case 'upload': {
          const ix = pick(indexes);
          const project = `${user}pkg${Math.floor(rnd() * 4)}`;
          const version = `1.${++counter}`;
          const filename = `${project}-${version}.tar.gz`;
          const content = randomBytes(64 + Math.floor(rnd() * 2048));
          const ok = await write(op, [200], (t) => legacyUpload(`${t.url}/${user}/${ix.name}/`, auth, { path: filename, filename, content, name: project, version }));
          if (ok) {
            const vs = ix.releases.get(project) ?? new Set<string>();
            vs.add(version);
            ix.releases.set(project, vs);
          }
          break;
        }
        case 'patchIndex': {
          const ix = pick(indexes);
          // a new base must not inherit (transitively) from ix: no cycles
          const others = indexes.filter((o) => o !== ix && !inheritsFrom(o, ix) && !ix.bases.includes(`${user}/${o.name}`)).map((o) => `${user}/${o.name}`);
          const choice = rnd();
          let body: unknown;
          if (choice < 0.4) body = { title: `title ${counter++}`, description: randomBytes(8).toString('hex') };
          else if (choice < 0.6) body = { volatile: !ix.volatile };
          else if (choice < 0.85 && others.length > 0) body = [`bases+=${pick(others)}`];
          else if (ix.bases.length > 0) body = [`bases-=${pick(ix.bases)}`];
          else body = { title: `title ${counter++}` };
          const res = await write(op, [200], (t) => api(t).patch(`/${user}/${ix.name}`, body));
          const cfg = res && indexConfigResult(res);
          if (cfg) {
            ix.bases = cfg.bases;
            ix.volatile = cfg.volatile;
          }
          break;
        }
        case 'push': {
          const [src, project, version] = pick(releases);
          const targets = indexes.filter((o) => o !== src && !o.releases.get(project)?.has(version));
          if (targets.length === 0) {
            // nowhere to push: delete it instead (still one write)
            const ok = await write('deleteVersion', [200], (t) => api(t).delete(`/${user}/${src.name}/${project}/${version}?force`));
            if (ok) src.releases.get(project)?.delete(version);
            break;
          }
          const dst = pick(targets);
          const ok = await write(op, [200], (t) => api(t).post(`/${user}/${src.name}`, { name: project, version, targetindex: `${user}/${dst.name}` }));
          if (ok) {
            const vs = dst.releases.get(project) ?? new Set<string>();
            vs.add(version);
            dst.releases.set(project, vs);
          }
          break;
        }
        case 'deleteVersion': {
          const [ix, project, version] = pick(releases);
          const ok = await write(op, [200], (t) => api(t).delete(`/${user}/${ix.name}/${project}/${version}?force`));
          if (ok) {
            const vs = ix.releases.get(project);
            vs?.delete(version);
            if (vs && vs.size === 0) ix.releases.delete(project);
          }
          break;
        }
        case 'deleteProject': {
          const [ix, project] = pick(releases);
          const ok = await write(op, [200], (t) => api(t).delete(`/${user}/${ix.name}/${project}?force`));
          if (ok) ix.releases.delete(project);
          break;
        }
        case 'createIndex': {
          const name = `ix${nextIndex++}`;
          const bases = indexes.filter(() => rnd() < 0.4).map((o) => `${user}/${o.name}`);
          const volatile = rnd() < 0.8;
          const res = await write(op, [200, 201], (t) => api(t).put(`/${user}/${name}`, { bases, volatile, title: name }));
          if (res) indexes.push({ name, volatile, bases: indexConfigResult(res)?.bases ?? bases, releases: new Map() });
          break;
        }
        case 'deleteIndex': {
          const ix = pick(deletable);
          const ok = await write(op, [200, 201], (t) => api(t).delete(`/${user}/${ix.name}`));
          if (ok) indexes.splice(indexes.indexOf(ix), 1);
          break;
        }
        case 'createUser': {
          const name = `${user}x${counter++}`;
          const ok = await write(op, [201], (t) => api(t, undefined).put(`/${name}`, { password: `pw-${name}`, email: `${name}@example.invalid` }));
          if (ok) extraUsers.push(name);
          break;
        }
        case 'patchUser': {
          await write(op, [200], (t) => api(t).patch(`/${user}`, { email: `${user}.${counter++}@example.invalid` }));
          break;
        }
        case 'deleteUser': {
          const name = extraUsers.splice(Math.floor(rnd() * extraUsers.length), 1)[0] as string;
          await write(op, [200], (t) => api(t, rootAuth).delete(`/${name}`));
          break;
        }
      }
    }
  };

  await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  const writes = Object.values(byKind).reduce((n, k) => n + k, 0);
  return { writes, byKind, byTarget, unexpected, durationMs: Date.now() - started };
}
