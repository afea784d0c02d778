/**
 * URL routing of the raw read path: which requests the fast path answers — GET/HEAD of a simple
 * page (`/<user>/<index>/+simple/[<project>/]`) or of a release file / `.metadata`
 * (`/<user>/<index>/+f/<h3>/<h13>/<filename>`, or devpi's `/<user>/<index>/+e/<dir>/<filename>` of
 * a mirror file upstream gave without a hash; unless JSON is asked for: that is the read API's).
 * Pure functions of method, URL and `Accept`, so they are tested without sockets.
 */

/** A request the fast path answers. Segments are percent-decoded. */
export type ReadRoute =
  | {
      kind: 'simple';
      user: string;
      index: string;
      /** absent: the index's project list */
      project?: string;
      /** the URL ends with `/` (else a redirect to the canonical URL) */
      slash: boolean;
    }
  | {
      kind: 'file';
      user: string;
      index: string;
      /** `<user>/<index>/+f/<h3>/<h13>/<filename>` or `<user>/<index>/+e/<dir>/<filename>` */
      entrypath: string;
      /** the last segment (a release file name, or one ending in `.metadata`) */
      filename: string;
    };

/** pip percent-encodes `+` in file URLs (`/%2Bf/`): the same resource, rewritten to `/+`. */
export function normalizePlus(url: string): string {
  return url.includes('%2B') || url.includes('%2b') ? url.replace(/\/%2[Bb]/g, '/+') : url;
}

function decode(seg: string): string | undefined {
  if (!seg.includes('%')) return seg;
  try {
    return decodeURIComponent(seg);
  } catch {
    return undefined;
  }
}

/** Most segments a routed path has (`/<user>/<index>/+f/<h3>/<h13>/<filename>`). */
const MAX_SEGMENTS = 7;

/**
 * The route of a request, or undefined when the fast path does not answer it (see module doc).
 * Called on every request: it finds the path's slashes with `indexOf` and cuts only the segments
 * it needs (no split, no join: a file's entrypath is the path itself unless it holds `%`). A
 * request target that does not start with `/` (absolute-form, `*`) is never routed here.
 */
export function routeRead(method: string | undefined, url: string, accept: string | undefined): ReadRoute | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (url.charCodeAt(0) !== 47 /* / */) return undefined;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  // slashes[i] is where segment i + 1 starts minus one; segment 0 is the empty one before the first /
  const slashes = [0];
  for (let at = path.indexOf('/', 1); at >= 0 && slashes.length <= MAX_SEGMENTS; at = path.indexOf('/', at + 1)) slashes.push(at);
  const count = slashes.length + 1;
  if (count < 4 || count > MAX_SEGMENTS) return undefined;
  const seg = (i: number): string => path.slice(slashes[i - 1]! + 1, i < slashes.length ? slashes[i] : path.length);
  const rawUser = seg(1);
  const rawIndex = seg(2);
  if (rawUser === '' || rawUser.startsWith('+') || rawIndex === '' || rawIndex.startsWith('+')) return undefined;
  const user = decode(rawUser);
  const index = decode(rawIndex);
  if (user === undefined || index === undefined) return undefined;
  const kind = seg(3);
  if (kind === '+simple') {
    if (count === 4) return { kind: 'simple', user, index, slash: false };
    const last = seg(4);
    if (count === 5 && last === '') return { kind: 'simple', user, index, slash: true };
    if (count === 5 || (count === 6 && seg(5) === '')) {
      const project = decode(last);
      if (project === undefined || project === '') return undefined;
      return { kind: 'simple', user, index, project, slash: count === 6 };
    }
    return undefined;
  }
  const fileSegments = kind === '+f' ? 7 : kind === '+e' ? 6 : 0;
  if (count !== fileSegments || (accept !== undefined && accept.indexOf('application/json') >= 0)) return undefined;
  const encoded = path.includes('%');
  const parts: string[] = [];
  for (let i = 4; i < count; i++) {
    const part = encoded ? decode(seg(i)) : seg(i);
    if (part === undefined || part === '' || part === '..' || part === '.') return undefined;
    parts.push(part);
  }
  const filename = parts[parts.length - 1]!;
  return { kind: 'file', user, index, entrypath: encoded ? `${user}/${index}/${kind}/${parts.join('/')}` : path.slice(1), filename };
}
