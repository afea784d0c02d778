import type { RetentionPolicy } from '../gc/retention.js';
import type { VersionKind } from '../versions.js';
import type { RequiredFileKind } from './release-policy.js';
/**
 * The shapes stored in the changelog's current state, and the keys they live under.
 *
 * | key                                        | value            |
 * |--------------------------------------------|------------------|
 * | `user/{user}`                              | {@link UserRecord}    |
 * | `index/{user}/{index}`                     | {@link IndexConfig}   |
 * | `project/{user}/{index}/{project}`         | {@link ProjectRecord} |
 * | `release/{user}/{index}/{project}/{version}` | {@link ReleaseRecord} |
 * | `file/{user}/{index}/{h3}/{h13}/{filename}` | {@link FileEntry}    |
 * | `mirror/{user}/{index}/{project}`          | {@link MirrorProjectRecord} (a mirror's cached page) |
 * | `mirrorlist/{user}/{index}`                | {@link MirrorListRecord} (a mirror's project list) |
 *
 * `{project}` is always the normalised name. Release file bytes live in the content-addressed
 * file store under their sha256; `file/…` keys map devpi's `+f` URL paths to them. Keys are built
 * and parsed in `keys.ts`; which blobs a value names is `blobsNamedBy` (`named-blobs.ts`).
 */

/** A user (`user/{name}`). `pwhash` is a PHC string (argon2id); never returned by the API. */
export interface UserRecord {
  username: string;
  pwhash?: string;
  email?: string;
  title?: string;
  description?: string;
  custom_data?: unknown;
  /** `YYYY-MM-DDTHH:MM:SSZ` (UTC), as devpi. */
  created: string;
  modified?: string;
  /** Random id given at creation (absent in records written before issue 11: `created` stands in); login tokens are bound to it. Never returned by the API. */
  uid?: string;
  /** Password generation: bumped on every change of `pwhash` (absent = 0); login tokens are bound to it. Never returned by the API. */
  pwgen?: number;
}

/** Config of a `stage` index (`index/{user}/{index}`), devpi's keys. */
export interface StageConfig {
  type: 'stage';
  bases: string[];
  volatile: boolean;
  acl_upload: string[];
  acl_toxresult_upload: string[];
  /** who may read the index (absent in records written before issue 15: everyone, `[':ANONYMOUS:']`); see `read-access.ts` */
  acl_read?: string[];
  mirror_whitelist: string[];
  mirror_whitelist_inheritance: 'intersection' | 'union';
  /** retention policy applied by `wheelhouse cleanup` (core/src/gc/retention.ts) */
  retention?: RetentionPolicy;
  /** release policy: PEP 440 kinds of version accepted (model/release-policy.ts); absent = all */
  allowed_versions?: VersionKind[];
  /** release policy: kinds of release file a release needs to be pushed in (model/release-policy.ts) */
  required_files?: RequiredFileKind[];
  title?: string;
  description?: string;
  custom_data?: unknown;
}

/**
 * Config of a `mirror` index (devpi §3.1): a cached view of an upstream PEP 503/691 index such as
 * PyPI. Mirrors have no bases and no uploads.
 */
export interface MirrorConfig {
  type: 'mirror';
  volatile: boolean;
  /** The upstream simple index, with trailing slash (default https://pypi.org/simple/). */
  mirror_url: string;
  /** Seconds a cached project page counts as fresh; absent = 1800 (devpi leaves it implicit): read it with `mirrorCacheExpiry`. */
  mirror_cache_expiry?: number;
  /** URL pattern of a project's page upstream, `{name}` replaced: devpi's key, stored and returned as devpi does (our pages do not link to it). */
  mirror_web_url_fmt?: string;
  /** who may read the mirror (absent: everyone); see `read-access.ts` */
  acl_read?: string[];
  title?: string;
  description?: string;
  custom_data?: unknown;
}

/** Any index config. */
export type IndexConfig = StageConfig | MirrorConfig;

/** One release file of a mirror's cached project page (what upstream said, PEP 691 fields). */
export interface MirrorLink {
  filename: string;
  /** absolute upstream URL (without fragment) */
  url: string;
  sha256?: string;
  requires_python?: string;
  /** PEP 592: true or the reason */
  yanked?: boolean | string;
  /** PEP 658/714: sha256 of the upstream core metadata file, or true when it exists without hash */
  core_metadata?: string | true;
  /** bytes, PEP 700 */
  size?: number;
  /** PEP 700 ISO 8601 */
  upload_time?: string;
  /** the version, parsed from the file name ('' when it does not parse) */
  version: string;
}

/** A mirror's cached project page (`mirror/{user}/{index}/{project}`), replicated like any state. */
export interface MirrorProjectRecord {
  name: string;
  links: MirrorLink[];
  /** PEP 700 versions from upstream, when given */
  versions?: string[];
  /** upstream ETag, for conditional refreshes */
  etag?: string;
  /** upstream X-PyPI-Last-Serial (-1 unknown) */
  serial: number;
  /** ms since epoch of the fetch that produced these links */
  fetched: number;
}

/** A mirror's cached full project list (`mirrorlist/{user}/{index}`): pages stored as blobs. */
export interface MirrorListRecord {
  /** sha256 of the PEP 503 HTML page blob */
  html_sha256: string;
  /** sha256 of the PEP 691 JSON page blob */
  json_sha256: string;
  html_size: number;
  json_size: number;
  count: number;
  etag?: string;
  fetched: number;
}

/** A project in one index (`project/{user}/{index}/{project}`). */
export interface ProjectRecord {
  /** Normalised name. */
  name: string;
  /** Name as first uploaded (e.g. `Wh_Demo.Mixed-Case`). */
  display_name: string;
  /** ms since epoch. */
  created: number;
}

/** One entry of a release file's history, in devpi's shape (`when` = [Y, M, D, h, m, s] UTC). */
export interface LogEntry {
  what: 'upload' | 'push' | 'overwrite';
  who: string | null;
  when: [number, number, number, number, number, number];
  dst?: string;
  src?: string;
  count?: number;
}

/** A file linked from a release: a release file, a doc zip, or a test result. */
export interface ReleaseLink {
  rel: 'releasefile' | 'doczip' | 'toxresult';
  /** Path below the server root, devpi's entrypath: `{user}/{index}/+f/{h3}/{h13}/{filename}`. */
  entrypath: string;
  filename: string;
  sha256: string;
  /** bytes */
  size: number;
  /** ms since epoch of the upload. */
  uploaded: number;
  log: LogEntry[];
  /** `Requires-Python` of the release at upload time ('' when unknown). */
  requires_python?: string;
  /** sha256 of the wheel's METADATA file (PEP 658), for wheels only. */
  metadata_sha256?: string;
  /** toxresult only: entrypath of the release file it tests. */
  for_entrypath?: string;
}

/** Core metadata of a release as devpi stores it (strings, lists for repeated fields). */
export type ReleaseMetadata = Record<string, string | string[]> & { name: string; version: string };

/** One version of a project in one index (`release/{user}/{index}/{project}/{version}`). */
export interface ReleaseRecord {
  metadata: ReleaseMetadata;
  links: ReleaseLink[];
}

/** Maps a `+f` URL path to stored bytes (`file/{user}/{index}/{h3}/{h13}/{filename}`). */
export interface FileEntry {
  sha256: string;
  /** bytes */
  size: number;
  project: string;
  version: string;
  rel: ReleaseLink['rel'];
  /** ms since epoch, for `Last-Modified`. */
  modified: number;
  /** PEP 658: sha256 of the extracted METADATA blob (wheels). */
  metadata_sha256?: string;
}


/** devpi's `[Y, M, D, h, m, s]` UTC tuple for a time in ms since epoch. */
export function logTime(ms: number): LogEntry['when'] {
  const d = new Date(ms);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
}

/** `YYYY-MM-DDTHH:MM:SSZ` for a time in ms since epoch (devpi's user `created`). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
