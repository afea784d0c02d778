/**
 * Retention policies of stage indexes (devpi-cleaner's use cases): which versions of a project a
 * policy removes. Pure: the cleanup (`packages/master/src/cleanup/`) reads the state, calls
 * {@link versionsToRemove} per project and deletes with the ordinary `deleteVersion`.
 *
 * Classes of versions (PEP 440): a dev release has a `.devN` segment (`1.0.dev3`, `1.0a1.dev2`); a
 * pre-release has an a/b/rc segment and no dev segment (`1.0rc1`); everything else (finals, post
 * releases, strings that are not PEP 440) is never removed by a policy.
 */
import { explain } from '@renovatebot/pep440';
import { compareVersions } from '../versions.js';

/** The `retention` key of a stage index config. Every field is optional; absent = no limit. */
export interface RetentionPolicy {
  /** keep the newest N dev releases (PEP 440 order) of each project */
  keep_dev_releases?: number;
  /** keep the newest N pre-releases (not dev) of each project */
  keep_pre_releases?: number;
  /** remove dev and pre-releases uploaded more than D days ago (finals are never removed) */
  max_age_days?: number;
}

/** JSON schema of {@link RetentionPolicy} (ajv, for the index config schema). */
export const RETENTION_SCHEMA = {
  type: 'object',
  properties: {
    keep_dev_releases: { type: 'integer', minimum: 0 },
    keep_pre_releases: { type: 'integer', minimum: 0 },
    max_age_days: { type: 'number', exclusiveMinimum: 0 },
  },
  additionalProperties: false,
} as const;

/** One version of a project as a policy sees it. */
export interface VersionAge {
  version: string;
  /** ms since the epoch of its newest upload (0 when unknown) */
  uploaded: number;
}

/** A version a policy removes, and why (for the changelog history, logs and `--dry-run`). */
export interface Removal {
  version: string;
  reason: string;
}

type VersionClass = 'dev' | 'pre' | 'final';

function classify(version: string): VersionClass {
  // the library's type declares only some of the fields explain() returns
  const v = explain(version) as { is_devrelease?: boolean; pre?: unknown } | null;
  if (!v) return 'final';
  if (v.is_devrelease) return 'dev';
  if (v.pre) return 'pre';
  return 'final';
}

/**
 * The versions of one project `policy` removes, newest first. `now` in ms since the epoch. A
 * version is removed when it is beyond the newest `keep_dev_releases` dev releases (or
 * `keep_pre_releases` pre-releases) in PEP 440 order, or older than `max_age_days`.
 */
export function versionsToRemove(versions: readonly VersionAge[], policy: RetentionPolicy, now: number): Removal[] {
  const sorted = [...versions].sort((a, b) => compareVersions(b.version, a.version));
  const seen: Record<VersionClass, number> = { dev: 0, pre: 0, final: 0 };
  const out: Removal[] = [];
  for (const v of sorted) {
    const cls = classify(v.version);
    if (cls === 'final') continue;
    const rank = ++seen[cls];
    const keep = cls === 'dev' ? policy.keep_dev_releases : policy.keep_pre_releases;
    if (keep !== undefined && rank > keep) {
      out.push({ version: v.version, reason: `retention: beyond the newest ${keep} ${cls === 'dev' ? 'dev releases' : 'pre-releases'}` });
      continue;
    }
    if (policy.max_age_days !== undefined && v.uploaded > 0 && now - v.uploaded > policy.max_age_days * 86_400_000) {
      out.push({ version: v.version, reason: `retention: older than ${policy.max_age_days} days` });
    }
  }
  return out;
}
