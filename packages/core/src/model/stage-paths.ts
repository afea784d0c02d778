/**
 * The two path strings keys are made of: a stage, `{user}/{index}` (devpi's stage name, also a
 * `bases` entry and `targetindex`), and a file's entrypath, `{user}/{index}/+f/{h3}/{h13}/{filename}`
 * (devpi's `+f` URL path below the server root; `file/…` keys are derived from it, keys.ts).
 * Built and split here only.
 */

/** `{user}/{index}`. */
export function stagePath(user: string, index: string): string {
  return `${user}/${index}`;
}

/** `[user, index]` of a `{user}/{index}` string, or undefined unless it is exactly two non-empty segments. */
export function parseStage(stage: string): [user: string, index: string] | undefined {
  const slash = stage.indexOf('/');
  if (slash <= 0 || slash === stage.length - 1 || stage.includes('/', slash + 1)) return undefined;
  return [stage.slice(0, slash), stage.slice(slash + 1)];
}

/**
 * `[user, index]` of a stage, split at its first `/`. Total: a malformed stage (from a URL whose
 * `%2F` decoded to `/`, say) gives a pair that names no index — index names are never empty and hold
 * no `/` — so a lookup misses (404) rather than finding another index. Validate input with
 * {@link parseStage}.
 */
export function splitStage(stage: string): [user: string, index: string] {
  const slash = stage.indexOf('/');
  return slash < 0 ? [stage, ''] : [stage.slice(0, slash), stage.slice(slash + 1)];
}

/** devpi's `+f` path of a file: `{stage}/+f/{sha256[0:3]}/{sha256[3:16]}/{filename}`. */
export function entrypathFor(stage: string, sha256: string, filename: string): string {
  return `${stage}/+f/${sha256.slice(0, 3)}/${sha256.slice(3, 16)}/${filename}`;
}

/** The fields of an entrypath. */
export interface Entrypath {
  user: string;
  index: string;
  h3: string;
  h13: string;
  filename: string;
}

/** Splits `{user}/{index}/+f/{h3}/{h13}/{filename}`; undefined when it has another shape or an empty segment. */
export function parseEntrypath(entrypath: string): Entrypath | undefined {
  const segs = entrypath.split('/');
  if (segs.length !== 6 || segs[2] !== '+f' || segs.some((s) => s === '')) return undefined;
  const [user, index, , h3, h13, filename] = segs as [string, string, string, string, string, string];
  return { user, index, h3, h13, filename };
}

/** The stage part of an entrypath (everything before `/+f/`; the whole string when it has none). */
export function stageOfEntrypath(entrypath: string): string {
  const at = entrypath.indexOf('/+f/');
  return at < 0 ? entrypath : entrypath.slice(0, at);
}

/**
 * The entrypath of `filename` in the same `+f/{h3}/{h13}/` directory as `entrypath`: where devpi
 * puts a release file's test results (`{file}.toxresult-…`).
 */
export function siblingEntrypath(entrypath: string, filename: string): string {
  return `${entrypath.slice(0, entrypath.lastIndexOf('/'))}/${filename}`;
}
