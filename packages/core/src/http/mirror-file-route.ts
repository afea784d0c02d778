/**
 * A release file (or its `.metadata`) of a mirror index that is linked from a cached mirror page
 * but not stored here yet: found by file name and sha256 prefix of the URL (or, for a link upstream
 * gave without a hash, by devpi's `+e/{dir}/{filename}` path of its URL), answered by the
 * node's mirror access (the master fetches upstream, a replica asks its master).
 */
import { getIndex } from '../model/indexes.js';
import { getMirrorProject } from '../model/mirrors.js';
import type { MirrorLink } from '../model/records.js';
import type { StateReader } from '../model/state.js';
import { parseEntrypath, stagePath } from '../model/stage-paths.js';
import { normalizeProjectName, parseFileName } from '../names.js';
import { mirrorExternalPath } from './mirror-views.js';

/** The mirror link an entrypath names. */
export interface MirrorFileTarget {
  stage: string;
  /** normalised */
  project: string;
  link: MirrorLink;
  /** the URL asks for the link's PEP 658 metadata */
  metadata: boolean;
}

/** Finds the link (see module doc), or undefined when the path names none (or metadata it does not have). */
export function findMirrorFile(state: StateReader, entrypath: string, filename: string): MirrorFileTarget | undefined {
  if (entrypath.split('/')[2] === '+e') return findExternalFile(state, entrypath, filename);
  const at = parseEntrypath(entrypath);
  if (!at) return undefined;
  const { user, index, h3, h13 } = at;
  if (getIndex(state, user, index)?.type !== 'mirror') return undefined;
  const metadata = filename.endsWith('.metadata');
  const base = metadata ? filename.slice(0, -'.metadata'.length) : filename;
  const parsed = parseFileName(base);
  if (!parsed) return undefined;
  const stage = stagePath(user, index);
  const project = normalizeProjectName(parsed.name);
  const link = getMirrorProject(state, stage, project)?.links.find((l) => l.filename === base && l.sha256?.startsWith(h3 + h13));
  if (!link || (metadata && typeof link.core_metadata !== 'string')) return undefined;
  return { stage, project, link, metadata };
}

/** A hashless mirror link by its `{user}/{index}/+e/{dir}/{filename}` path (no `.metadata`: such links have none). */
function findExternalFile(state: StateReader, entrypath: string, filename: string): MirrorFileTarget | undefined {
  const [user, index] = entrypath.split('/') as [string, string];
  if (getIndex(state, user, index)?.type !== 'mirror') return undefined;
  const parsed = parseFileName(filename);
  if (!parsed) return undefined;
  const stage = stagePath(user, index);
  const project = normalizeProjectName(parsed.name);
  const link = getMirrorProject(state, stage, project)?.links.find((l) => !l.sha256 && l.filename === filename && mirrorExternalPath(stage, l) === entrypath);
  return link ? { stage, project, link, metadata: false } : undefined;
}
