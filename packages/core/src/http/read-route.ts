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

/** The route of a request, or undefined when the fast path does not answer it (see module doc). */
export function routeRead(method: string | undefined, url: string, accept: string | undefined): ReadRoute | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const q = url.indexOf('?');
  const segs = (q < 0 ? url : url.slice(0, q)).split('/');
  // ['', user, index, '+simple' | '+f', ...]
  if (segs.length < 4 || segs[1] === '' || segs[1]!.startsWith('+') || segs[2] === '' || segs[2]!.startsWith('+')) return undefined;
  const user = decode(segs[1]!);
  const index = decode(segs[2]!);
  if (user === undefined || index === undefined) return undefined;
  if (segs[3] === '+simple') {
    if (segs.length === 4) return { kind: 'simple', user, index, slash: false };
    if (segs.length === 5 && segs[4] === '') return { kind: 'simple', user, index, slash: true };
    if (segs.length === 5 || (segs.length === 6 && segs[5] === '')) {
      const project = decode(segs[4]!);
      if (project === undefined || project === '') return undefined;
      return { kind: 'simple', user, index, project, slash: segs.length === 6 };
    }
    return undefined;
  }
  const fileSegs = segs[3] === '+f' ? 7 : segs[3] === '+e' ? 6 : 0;
  if (segs.length === fileSegs && (accept ?? '').indexOf('application/json') < 0) {
    const parts = segs.slice(4).map(decode);
    if (parts.some((p) => p === undefined || p === '' || p === '..' || p === '.')) return undefined;
    return { kind: 'file', user, index, entrypath: `${user}/${index}/${segs[3]}/${parts.join('/')}`, filename: parts[parts.length - 1]! };
  }
  return undefined;
}
