/**
 * `POST /+cleanup[?dry_run][&force][&index=user/index]`: applies the retention policies
 * (`cleanup-plan.ts`) and answers `{"type": "cleanup", "result": {removed, skippedNonVolatile,
 * serials, dryRun}}`; with `dry_run` it only lists what it would remove. Operators only (root, or a
 * token of the secret file).
 */
import { Router } from 'express';
import type { Logger } from 'pino';
import type { Changelog } from '@wheelhouse/changelog';
import { requireOperator, type Authenticator, type TokenSigner } from '@wheelhouse/core';
import { sendJson } from '@wheelhouse/http';
import { applyCleanup, planCleanup } from './cleanup-plan.js';

/** Dependencies of {@link createCleanupRouter}. */
export interface CleanupRouterDeps {
  changelog: Changelog;
  auth: Authenticator;
  replicaTokens: TokenSigner;
  log?: Logger;
}

const flag = (v: unknown): boolean => v !== undefined && v !== 'false' && v !== '0';

/** The router of `POST /+cleanup`. */
export function createCleanupRouter(deps: CleanupRouterDeps): Router {
  const router = Router();
  router.post('/\\+cleanup', async (req, res) => {
    const who = await requireOperator(req.headers, deps.replicaTokens, deps.auth);
    const q = req.query as Record<string, string | undefined>;
    const plan = planCleanup(deps.changelog, { force: flag(q['force']), ...(q['index'] ? { stage: q['index'] } : {}) });
    if (flag(q['dry_run'])) {
      sendJson(res, 200, { type: 'cleanup', result: { dryRun: true, removed: plan.removals, skippedNonVolatile: plan.skippedNonVolatile, serials: [] } });
      return;
    }
    const done = await applyCleanup(deps.changelog, plan, deps.log, who);
    sendJson(res, 200, { type: 'cleanup', result: { dryRun: false, removed: done.removed, skippedNonVolatile: plan.skippedNonVolatile, serials: done.serials } });
  });
  return router;
}
