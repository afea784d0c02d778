/**
 * PEP 440 version ordering (through `@renovatebot/pep440`), with devpi's rule for the rest:
 * strings that are not PEP 440 versions sort before every PEP 440 version, among themselves by
 * plain string order.
 */
import { compare, valid, explain } from '@renovatebot/pep440';

/** Compares two version strings by PEP 440: negative, 0 or positive. Never throws. */
export function compareVersions(a: string, b: string): number {
  const va = valid(a) !== null;
  const vb = valid(b) !== null;
  if (va && vb) return compare(a, b);
  if (va !== vb) return va ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts versions ascending by PEP 440 (a new array). */
export function sortVersions(versions: Iterable<string>): string[] {
  return [...versions].sort(compareVersions);
}

/** True for a PEP 440 pre-release or dev release (`1.0a1`, `2.0.dev3`); false for invalid versions. */
export function isPrerelease(v: string): boolean {
  return explain(v)?.is_prerelease ?? false;
}

/** The highest version, or undefined for none. `stable` skips pre-releases when any final exists. */
export function latestVersion(versions: Iterable<string>, stable = false): string | undefined {
  // one pass (N comparisons, not a sort's N log N: a project may have thousands of versions); of
  // versions comparing equal (`1.0`, `1.0.0`) the last given wins, as the last of a stable sort
  let best: string | undefined;
  let bestFinal: string | undefined;
  for (const v of versions) {
    if (best === undefined || compareVersions(v, best) >= 0) best = v;
    if (stable && !isPrerelease(v) && (bestFinal === undefined || compareVersions(v, bestFinal) >= 0)) bestFinal = v;
  }
  return bestFinal ?? best;
}

/** True when both are PEP 440 versions with the same normalised form (`1.0.0a1` and `1.0.0-alpha1`). */
export function samePep440(a: string, b: string): boolean {
  const na = valid(a);
  return na !== null && na === valid(b);
}

/** True when `v` is a PEP 440 version (`1.0`, `2.0rc1`, `1!1.0.post2.dev3+local`). */
export function isPep440(v: string): boolean {
  return valid(v) !== null;
}

/**
 * The PEP 440 kinds of a version, as the `allowed_versions` release policy names them
 * (model/release-policy.ts): `pre` (pre-release segment `aN`/`bN`/`rcN`), `post` (post release
 * `.postN`), `dev` (developmental release `.devN`), `local` (local version label `+…`) — each one the
 * version carries — or `final` alone for a version with none of them (PEP 440 "final release":
 * a release segment and an optional epoch). Undefined for a string that is not a PEP 440 version.
 */
export function versionKinds(v: string): VersionKind[] | undefined {
  // explain() returns every PEP 440 segment; its published type lists only two of them
  const parts = explain(v) as Pep440Parts | null;
  if (!parts) return undefined;
  const kinds: VersionKind[] = [];
  if (parts.pre) kinds.push('pre');
  if (parts.post !== null) kinds.push('post');
  if (parts.dev !== null) kinds.push('dev');
  if (parts.local) kinds.push('local');
  return kinds.length ? kinds : ['final'];
}

/** The segments `explain()` of @renovatebot/pep440 returns (null: absent). */
interface Pep440Parts {
  pre: [string, number] | null;
  post: number | null;
  dev: number | null;
  local: string | null;
}

/** The PEP 440 version kinds {@link versionKinds} tells apart, in the order they are listed. */
export const VERSION_KINDS = ['final', 'pre', 'post', 'dev', 'local'] as const;
/** One of {@link VERSION_KINDS}. */
export type VersionKind = (typeof VERSION_KINDS)[number];
