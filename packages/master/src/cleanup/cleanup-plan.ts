/**
 * `wheelhouse cleanup`: applies the retention policy of every stage index that has one
 * (`retention`, core/src/gc/retention.ts). Only volatile indexes are cleaned unless `force`
 * (devpi's rule for deletions). Every removal is an ordinary `deleteVersion` in a changelog record
 * (one record per project), so replicas follow and the blobs become garbage for the collector.
 */
import type { Logger } from 'pino';
import type { Changelog } from '@wheelhouse/changelog';
import {
  CLEANUP_PRINCIPAL,
  deleteVersions,
  keys,
  lastSegment,
  stageProjectNames,
  stageVersions,
  versionsToRemove,
  type IndexConfig,
  type ReleaseRecord,
  type StateReader,
} from '@wheelhouse/core';

/** One version a cleanup removes. */
export interface PlannedRemoval {
  stage: string;
  project: string;
  version: string;
  reason: string;
}

/** What a cleanup would do (or did). */
export interface CleanupPlan {
  removals: PlannedRemoval[];
  /** stages with a policy left alone because they are non-volatile and `force` was not given */
  skippedNonVolatile: string[];
}

/** Options of a cleanup. */
export interface CleanupOptions {
  /** also clean non-volatile indexes */
  force?: boolean;
  /** only this `user/index` */
  stage?: string;
  /** ms since the epoch (tests) */
  now?: number;
}

/** Every stage index (`user/index`) with its config. */
function stages(state: StateReader): Array<[string, IndexConfig]> {
  const out: Array<[string, IndexConfig]> = [];
  for (const userKey of state.children(keys.users())) {
    const user = lastSegment(userKey);
    for (const indexKey of state.children(keys.indexesOf(user))) {
      const cfg = state.get<IndexConfig>(indexKey);
      if (cfg) out.push([`${user}/${lastSegment(indexKey)}`, cfg]);
    }
  }
  return out;
}

/** The removals the retention policies ask for, in stage, project, version order. Reads only. */
export function planCleanup(state: StateReader, opts: CleanupOptions = {}): CleanupPlan {
  const now = opts.now ?? Date.now();
  const plan: CleanupPlan = { removals: [], skippedNonVolatile: [] };
  for (const [stage, cfg] of stages(state)) {
    if (cfg.type !== 'stage' || !cfg.retention) continue;
    if (opts.stage !== undefined && opts.stage !== stage) continue;
    if (!cfg.volatile && !opts.force) {
      plan.skippedNonVolatile.push(stage);
      continue;
    }
    for (const project of stageProjectNames(state, stage)) {
      const versions = stageVersions(state, stage, project).map((version) => {
        const record = state.get<ReleaseRecord>(keys.release(stage, project, version));
        return { version, uploaded: Math.max(0, ...(record?.links ?? []).map((l) => l.uploaded ?? 0)) };
      });
      for (const r of versionsToRemove(versions, cfg.retention, now)) plan.removals.push({ stage, project, version: r.version, reason: r.reason });
    }
  }
  return plan;
}

/** The outcome of {@link applyCleanup}. */
export interface CleanupResult {
  removed: PlannedRemoval[];
  /** serials of the records written */
  serials: number[];
}

/**
 * Removes the planned versions, one changelog record per project (versions already gone are
 * skipped). Logged with the principal and each reason (`by`, `reason`), which `who` ran it.
 */
export async function applyCleanup(changelog: Changelog, plan: CleanupPlan, log?: Logger, who = CLEANUP_PRINCIPAL): Promise<CleanupResult> {
  const byProject = new Map<string, PlannedRemoval[]>();
  for (const r of plan.removals) {
    const k = `${r.stage}\0${r.project}`;
    const list = byProject.get(k) ?? [];
    list.push(r);
    byProject.set(k, list);
  }
  const result: CleanupResult = { removed: [], serials: [] };
  for (const list of byProject.values()) {
    const { serial, result: done } = await changelog.write((tx) => {
      const { stage, project } = list[0]!;
      const deleted = new Set(deleteVersions(tx, stage, project, list.map((r) => r.version), true));
      return list.filter((r) => deleted.has(r.version));
    });
    if (serial !== null) result.serials.push(serial);
    result.removed.push(...done);
    for (const r of done) log?.info({ by: who, serial, stage: r.stage, project: r.project, version: r.version, reason: r.reason }, 'cleanup removed a version');
  }
  return result;
}
