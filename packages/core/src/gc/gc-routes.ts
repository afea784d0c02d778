/**
 * `POST /+gc`: runs one garbage collection now (or joins the one running) and answers its
 * {@link GcReport} (`{"type": "gc", "result": {...}}`). Operators only (`operator-access.ts`).
 * Reads and writes go on while it runs.
 */
import { Router } from 'express';
import { sendJson } from '@wheelhouse/http';
import type { TokenSigner } from '../auth/tokens.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { BlobCollector } from './blob-collector.js';
import { requireOperator } from './operator-access.js';

/** Dependencies of {@link createGcRouter}. */
export interface GcRouterDeps {
  collector: BlobCollector;
  replicaTokens: TokenSigner;
  /** root may run it too (masters) */
  auth?: Authenticator;
}

/** The router of `POST /+gc`. */
export function createGcRouter(deps: GcRouterDeps): Router {
  const router = Router();
  router.post('/\\+gc', async (req, res) => {
    await requireOperator(req.headers, deps.replicaTokens, deps.auth);
    const report = await deps.collector.run();
    sendJson(res, 200, { type: 'gc', result: { ...report, totals: deps.collector.totals } });
  });
  return router;
}
