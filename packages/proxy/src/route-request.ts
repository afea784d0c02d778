/**
 * The proxy's request path: admin routes answered here, a `Via` loop refused (508), writes to the
 * master (503 with `Retry-After` at once when it is unavailable), reads to the backend the pool
 * picks under read-your-writes — held up to `readYourWritesWaitMs` when none has reached the write
 * mark yet — and on to another backend while the retry decision says so; 503 when none is left.
 * A read the connection-level path (`read-fast-path.ts`) already tried once arrives here for its retry.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isReadMethod, type Backend, type BackendPool } from './backends.js';
import type { Forward } from './forward.js';
import { passedThrough } from './forward-headers.js';
import { answerError } from '@wheelhouse/http';
import { masterDown, noReadBackend, requestLoop } from './json-answer.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { isAdminPath } from './admin.js';

/** No backend tried yet (shared, never written). */
const NONE_TRIED: ReadonlySet<Backend> = new Set();

/** How often a held read looks for a backend that reached the write mark, ms. */
const HOLD_POLL_MS = 25;

/** What the request path needs. */
export interface RouteDeps {
  pool: BackendPool;
  forward: Forward;
  admin: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;
  metrics: Pick<ProxyMetrics, 'retries' | 'rejected'>;
  /** This proxy's `Via` token. */
  viaToken: string;
  /** How long a first read attempt waits for a backend that reached the write mark, ms. */
  readYourWritesWaitMs: number;
  /**
   * The backend a read already tried on the connection-level path before it was handed over
   * (`ReadFastPath.takeTried`): the router's first attempt is then the retry, elsewhere.
   */
  takeTried?: (req: IncomingMessage) => Backend | undefined;
}

/** Builds the handler of every client request (see module doc). Rejects only on a defect. */
export function createRequestRouter(deps: RouteDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { pool, forward, metrics } = deps;

  /**
   * The backend for a read. On the first attempt, when none has reached the write mark yet (master
   * down, replicas behind), holds the read up to `readYourWritesWaitMs`; retries do not wait.
   */
  async function pickReadWaiting(exclude: ReadonlySet<Backend>): Promise<Backend | undefined> {
    const deadline = Date.now() + deps.readYourWritesWaitMs;
    for (;;) {
      const b = pool.pickRead(pool.writeMark, exclude, Date.now());
      if (b || Date.now() >= deadline || exclude.size > 0) return b;
      await new Promise((r) => setTimeout(r, HOLD_POLL_MS));
    }
  }

  return async (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (isAdminPath(path)) return deps.admin(req, res, path);
    if (passedThrough(req.headers, deps.viaToken)) return answerError(res, requestLoop(deps.viaToken));
    if (!isReadMethod(req.method)) {
      const master = pool.pickWrite();
      if (!master) {
        req.resume();
        metrics.rejected.inc({ kind: 'write' });
        return answerError(res, masterDown());
      }
      await forward(master, req, res, 0);
      return;
    }
    // the set of tried backends is made only when a retry needs it (none for the common read)
    const triedFirst = deps.takeTried?.(req);
    let tried: Set<Backend> | undefined = triedFirst ? new Set([triedFirst]) : undefined;
    for (let attempt = triedFirst ? 1 : 0; ; attempt++) {
      // the common case decided without a timer or an extra promise: a backend is there at once
      const b = pool.pickRead(pool.writeMark, tried ?? NONE_TRIED, Date.now()) ?? (await pickReadWaiting(tried ?? NONE_TRIED));
      if (!b) break;
      const outcome = await forward(b, req, res, attempt);
      if (outcome === 'done') return;
      (tried ??= new Set()).add(b);
      metrics.retries.inc();
      if (outcome === 'exhausted') break;
    }
    metrics.rejected.inc({ kind: 'read' });
    answerError(res, noReadBackend([...(tried ?? NONE_TRIED)].map((b) => b.name)));
  };
}
