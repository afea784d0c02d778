/**
 * Release policies of a stage index (what companies add to devpi by hand: "no pre-releases in
 * prod"). Two optional index config keys, both lists:
 *
 * - `allowed_versions`: the PEP 440 kinds of version the index accepts — `final`, `pre`, `post`,
 *   `dev`, `local` (core/src/versions.ts `versionKinds`). A version is accepted when every kind it
 *   has is listed: with `["final", "post"]`, `1.0` and `1.0.post1` are accepted, `1.0rc1`,
 *   `1.0.dev2` and `1.0+ubuntu1` are refused. Absent: every version is accepted (devpi's behaviour).
 *   With a policy, a version that is not PEP 440 is refused (its kind cannot be told).
 * - `required_files`: the kinds of release file (`wheel`, `sdist`) a release must have before it can
 *   be pushed into the index (a wheel must exist before a release goes to prod). Uploads arrive one
 *   file at a time, so this applies to push only.
 *
 * Checked on every way a version enters the index: legacy upload (`file_upload`, `submit`,
 * `doc_upload`) and push into it. A refusal is a {@link ReleasePolicyError} (`EPOLICY`, 409 Conflict:
 * the request conflicts with the index's configuration; nothing is written) whose message names the
 * policy and the version.
 */
import { ReleasePolicyError } from '../errors.js';
import { parseFileName } from '../names.js';
import { VERSION_KINDS, versionKinds, type VersionKind } from '../versions.js';
import type { ReleaseRecord, StageConfig } from './records.js';

/** Kinds of release file `required_files` names: a wheel (`.whl`) or a source distribution. */
export const REQUIRED_FILE_KINDS = ['wheel', 'sdist'] as const;
/** One of {@link REQUIRED_FILE_KINDS}. */
export type RequiredFileKind = (typeof REQUIRED_FILE_KINDS)[number];

/** JSON schema of `allowed_versions` (a list, or devpi's comma-separated string form). */
export const ALLOWED_VERSIONS_SCHEMA = {
  anyOf: [
    { type: 'array', items: { enum: [...VERSION_KINDS] } },
    { type: 'string', pattern: `^\\s*((${VERSION_KINDS.join('|')})\\s*(,\\s*|$))*$` },
  ],
} as const;

/** JSON schema of `required_files` (a list, or devpi's comma-separated string form). */
export const REQUIRED_FILES_SCHEMA = {
  anyOf: [
    { type: 'array', items: { enum: [...REQUIRED_FILE_KINDS] } },
    { type: 'string', pattern: `^\\s*((${REQUIRED_FILE_KINDS.join('|')})\\s*(,\\s*|$))*$` },
  ],
} as const;

const KIND_WORDS: Record<VersionKind, string> = {
  final: 'a final release',
  pre: 'a pre-release',
  post: 'a post release',
  dev: 'a dev release',
  local: 'a local version',
};

/**
 * Refuses `version` of `project` entering `stage` when the index's `allowed_versions` does not
 * accept it. Does nothing when the index has no such policy.
 * @throws ReleasePolicyError naming the policy, the version and why.
 */
export function assertVersionAllowed(cfg: StageConfig, stage: string, project: string, version: string): void {
  const allowed = cfg.allowed_versions;
  if (allowed === undefined) return;
  const kinds = versionKinds(version);
  const policy = `allowed_versions=${allowed.join(',')}`;
  if (!kinds) throw new ReleasePolicyError(`${project} ${version} refused by ${stage}'s policy ${policy}: '${version}' is not a PEP 440 version`);
  const refused = kinds.filter((k) => !allowed.includes(k));
  if (refused.length) {
    throw new ReleasePolicyError(`${project} ${version} refused by ${stage}'s policy ${policy}: ${version} is ${refused.map((k) => KIND_WORDS[k]).join(' and ')}`);
  }
}

/** The kind of a release file name: `wheel`, `sdist`, or undefined (an egg, an unknown name). */
function fileKind(filename: string): RequiredFileKind | undefined {
  if (/\.whl$/i.test(filename)) return 'wheel';
  const parsed = parseFileName(filename);
  return parsed?.kind === 'sdist' ? 'sdist' : undefined;
}

/**
 * Refuses a push of `record` into `stage` when the index's `required_files` names a kind of file
 * the release does not have. Does nothing when the index has no such policy.
 * @throws ReleasePolicyError naming the policy, the release and the missing kinds.
 */
export function assertRequiredFiles(cfg: StageConfig, stage: string, record: ReleaseRecord): void {
  const required = cfg.required_files;
  if (!required?.length) return;
  const have = new Set(record.links.filter((l) => l.rel === 'releasefile').map((l) => fileKind(l.filename)));
  const missing = required.filter((k) => !have.has(k));
  if (missing.length) {
    const { name, version } = record.metadata;
    throw new ReleasePolicyError(`${name} ${version} refused by ${stage}'s policy required_files=${required.join(',')}: the release has no ${missing.join(' and no ')} file`);
  }
}

/** A list value from its JSON (list) or devpi (comma-separated) form, trimmed, each entry once. */
export function policyList<T extends string>(v: readonly T[] | string): T[] {
  const items = typeof v === 'string' ? v.split(',') : v;
  return [...new Set(items.map((s) => s.trim()).filter((s) => s.length > 0))] as T[];
}
