/**
 * Handler of uploaded documentation, `/{user}/{index}/{project}/{version}/+doc/{path}` (devpi's
 * URL; `latest` and `stable` name the newest version, or newest non-pre-release, that has a doc zip).
 * Answers the zip entry to send, or a redirect (non-normalised project name; a folder, or the bare
 * `+doc`, to its `…/` form). Refusals: `BadRequestError` (400) for a path that tries to leave the
 * archive (see {@link cleanDocPath}), `NotFoundError` (404) for an unknown index, no doc zip, a zip
 * not on this node yet or unreadable, or no such entry.
 */
import { BadRequestError, NotFoundError } from '../errors.js';
import { getIndex } from '../model/indexes.js';
import { mergedReleases } from '../model/releases.js';
import type { StateReader } from '../model/state.js';
import { latestVersion } from '../versions.js';
import { cleanDocPath, type DocEntry, type DocZips } from './doc-zips.js';
import { canonicalProjectRedirect, withTrailingSlash } from './page-result.js';

/** The request facts the documentation handler uses. */
export interface DocRequest {
  /** path and query as received, for redirects */
  originalUrl: string;
  /** the request path (decoded by nobody: percent-escapes are cleaned by {@link cleanDocPath}) */
  path: string;
}

/** What to answer: an entry (with its strong ETag: doc zip sha256 prefix and entry CRC-32) or a redirect. */
export type DocResult =
  | { kind: 'doc'; entry: DocEntry; etag: string }
  | { kind: 'redirect'; location: string };

/** Finds the documentation entry a request names (see module doc). A returned entry must be released by the caller. */
export async function docHandler(
  deps: { state: StateReader; zips: Pick<DocZips, 'entry'> },
  params: { user: string; index: string; project: string; version: string },
  req: DocRequest,
): Promise<DocResult> {
  const { state } = deps;
  const { user, index, project } = params;
  if (!getIndex(state, user, index)) throw new NotFoundError(`index '${user}/${index}' does not exist`);
  const redirect = canonicalProjectRedirect(project, req.originalUrl);
  if (redirect?.kind === 'redirect') return redirect;
  const rest = req.path.slice(req.path.indexOf('/+doc') + '/+doc'.length);
  if (rest === '') return { kind: 'redirect', location: withTrailingSlash(req.originalUrl) };
  const path = cleanDocPath(rest.slice(1));
  if (path === undefined) throw new BadRequestError(`invalid documentation path '${rest}'`);
  const requested = params.version;
  const withDocs = mergedReleases(state, `${user}/${index}`, project).filter((r) => r.record.links.some((l) => l.rel === 'doczip'));
  const version = requested === 'latest' || requested === 'stable'
    ? latestVersion(withDocs.map((r) => r.version), requested === 'stable')
    : requested;
  const doc = withDocs.find((r) => r.version === version)?.record.links.find((l) => l.rel === 'doczip');
  if (!doc) throw new NotFoundError(`no documentation for ${project} ${requested} in ${user}/${index}`);
  let entry;
  try {
    entry = await deps.zips.entry(doc.sha256, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`the documentation of ${project} ${version ?? ''} is not on this server yet`);
    throw new NotFoundError(`the documentation of ${project} ${version ?? ''} is not a readable zip`);
  }
  if (entry === 'folder') return { kind: 'redirect', location: withTrailingSlash(req.originalUrl) };
  if (!entry) throw new NotFoundError(`no '${path}' in the documentation of ${project} ${version ?? ''}`);
  return { kind: 'doc', entry, etag: `"${doc.sha256.slice(0, 16)}-${entry.crc32.toString(16)}"` };
}
