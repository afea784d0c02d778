/**
 * Storage keys of the index model: the one place that builds and parses them (devpi declares its
 * keys once the same way, `keyfs.add_key("STAGEFILE", "{user}/{index}/+f/…")`). Nobody else splits
 * a key string.
 *
 * | kind         | key                                           | value (records.ts)      |
 * |--------------|-----------------------------------------------|-------------------------|
 * | `user`       | `user/{user}`                                 | `UserRecord`            |
 * | `index`      | `index/{user}/{index}`                        | `IndexConfig`           |
 * | `project`    | `project/{user}/{index}/{project}`            | `ProjectRecord`         |
 * | `release`    | `release/{user}/{index}/{project}/{version}`  | `ReleaseRecord`         |
 * | `file`       | `file/{user}/{index}/{h3}/{h13}/{filename}`   | `FileEntry`             |
 * | `mirror`     | `mirror/{user}/{index}/{project}`             | `MirrorProjectRecord`   |
 * | `mirrorlist` | `mirrorlist/{user}/{index}`                   | `MirrorListRecord`      |
 *
 * `{project}` is the normalised name (names.ts); `{h3}`/`{h13}` are the first 3 and next 13 hex
 * digits of the file's sha256 (devpi's `+f` directories). No segment is empty or holds a `/`:
 * user and index names, normalised project names, versions and release file names all refuse it
 * where they enter (names.ts, `validateReleaseFile`). A mirror file upstream linked without a hash
 * is stored, once fetched, under devpi's `+e` path: `file/{user}/{index}/+e/{dir}/{filename}`
 * (`mirrorExternalPath`); such a key has the `file` kind but no hash directories, so `parseKey`
 * does not parse it (nothing that parses keys needs its fields).
 */

/** A `user/{user}` key. */
export interface UserKey {
  kind: 'user';
  user: string;
}

/** An `index/{user}/{index}` key (a stage or mirror index config). */
export interface IndexKey {
  kind: 'index';
  user: string;
  index: string;
}

/** A `project/{user}/{index}/{project}` key. */
export interface ProjectKey {
  kind: 'project';
  user: string;
  index: string;
  project: string;
}

/** A `release/{user}/{index}/{project}/{version}` key. */
export interface ReleaseKey {
  kind: 'release';
  user: string;
  index: string;
  project: string;
  version: string;
}

/** A `file/{user}/{index}/{h3}/{h13}/{filename}` key (devpi's `+f` path without the `+f`). */
export interface FileKey {
  kind: 'file';
  user: string;
  index: string;
  /** sha256 hex digits 0–2 */
  h3: string;
  /** sha256 hex digits 3–15 */
  h13: string;
  filename: string;
}

/** A `mirror/{user}/{index}/{project}` key (a mirror's cached project page). */
export interface MirrorProjectKey {
  kind: 'mirror';
  user: string;
  index: string;
  project: string;
}

/** A `mirrorlist/{user}/{index}` key (a mirror's cached project list). */
export interface MirrorListKey {
  kind: 'mirrorlist';
  user: string;
  index: string;
}

/** Any parsed storage key, discriminated by `kind` (the key's first segment). */
export type StorageKey = UserKey | IndexKey | ProjectKey | ReleaseKey | FileKey | MirrorProjectKey | MirrorListKey;

/** The kinds of storage key. */
export type KeyKind = StorageKey['kind'];

/** Segment names after the kind, per kind, in key order. */
const LAYOUT = {
  user: ['user'],
  index: ['user', 'index'],
  project: ['user', 'index', 'project'],
  release: ['user', 'index', 'project', 'version'],
  file: ['user', 'index', 'h3', 'h13', 'filename'],
  mirror: ['user', 'index', 'project'],
  mirrorlist: ['user', 'index'],
} as const satisfies Record<KeyKind, readonly string[]>;

const HEX3 = /^[0-9a-f]{3}$/;
const HEX13 = /^[0-9a-f]{13}$/;

function isKind(s: string): s is KeyKind {
  return Object.hasOwn(LAYOUT, s);
}

/**
 * The kind of a key from its first segment alone, or undefined for a key of no known kind. Cheap;
 * does not check the rest of the key (use {@link parseKey} for that).
 */
export function keyKind(key: string): KeyKind | undefined {
  const slash = key.indexOf('/');
  const head = slash < 0 ? key : key.slice(0, slash);
  return slash > 0 && isKind(head) ? head : undefined;
}

/**
 * Parses a storage key into its kind and fields. Undefined for anything malformed: an unknown
 * kind, the wrong number of segments, an empty segment, or (`file`) `h3`/`h13` that are not 3 and
 * 13 lowercase hex digits. Inverse of {@link formatKey}.
 */
export function parseKey(key: string): StorageKey | undefined {
  const segs = key.split('/');
  const kind = segs[0]!;
  if (!isKind(kind)) return undefined;
  const names: readonly string[] = LAYOUT[kind];
  if (segs.length !== names.length + 1 || segs.some((s) => s === '')) return undefined;
  const out: Record<string, string> = { kind };
  names.forEach((name, i) => (out[name] = segs[i + 1]!));
  if (kind === 'file' && (!HEX3.test(out['h3']!) || !HEX13.test(out['h13']!))) return undefined;
  return out as unknown as StorageKey;
}

/**
 * The key string of a parsed key (inverse of {@link parseKey}). Throws TypeError when a field is
 * empty or holds a `/`, which would make a key that parses differently.
 */
export function formatKey(key: StorageKey): string {
  const fields = key as unknown as Record<string, string>;
  const segs = LAYOUT[key.kind].map((name) => {
    const v = fields[name];
    if (!v || v.includes('/')) throw new TypeError(`invalid ${name} ${JSON.stringify(v)} for a ${key.kind} key`);
    return v;
  });
  return [key.kind, ...segs].join('/');
}

/** The last path segment of a key (`release/a/b/p/1.0` → `1.0`): a child's name under `children(parent)`. */
export function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * Key builders for the table above, and the parent keys whose `children()` list them. `stage` is
 * `{user}/{index}` (stage-paths.ts). Builders do not validate; the names were validated on entry.
 */
export const keys = {
  user: (user: string) => `user/${user}`,
  /** parent of every `user/…` key */
  users: () => 'user',
  index: (user: string, index: string) => `index/${user}/${index}`,
  /** parent of a user's `index/…` keys */
  indexesOf: (user: string) => `index/${user}`,
  project: (stage: string, project: string) => `project/${stage}/${project}`,
  /** parent of a stage's `project/…` keys */
  projectsOf: (stage: string) => `project/${stage}`,
  release: (stage: string, project: string, version: string) => `release/${stage}/${project}/${version}`,
  /** parent of a project's `release/…` keys in one stage */
  releasesOf: (stage: string, project: string) => `release/${stage}/${project}`,
  /** `entrypath` is `{user}/{index}/+f/{h3}/{h13}/{filename}` (stage-paths.ts). */
  file: (entrypath: string) => `file/${entrypath.replace('/+f/', '/')}`,
  mirrorProject: (stage: string, project: string) => `mirror/${stage}/${project}`,
  /** parent of a mirror's `mirror/…` keys */
  mirrorProjectsOf: (stage: string) => `mirror/${stage}`,
  mirrorList: (stage: string) => `mirrorlist/${stage}`,
} as const;
