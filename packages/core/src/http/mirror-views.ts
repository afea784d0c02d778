/**
 * devpi's JSON project and version views of mirrored releases (`devpi list PKG` on a mirror, or on
 * a stage inheriting one): the mirrors of the resolution order that may serve the project (see
 * `mirrorPolicy`) get their cached upstream page made usable first, then each version no private
 * stage has becomes a `verdata` whose `+links` point at this server — `+f/{hash}/…` for links with
 * a sha256, devpi's `+e/{upstream dir}/{file}` for links without one (fetched on download).
 */
import { normalizeProjectName } from '../names.js';
import type { MirrorLink } from '../model/records.js';
import { entrypathFor } from '../model/stage-paths.js';
import { getMirrorProject, mirrorPolicy } from '../model/mirrors.js';
import type { StateReader } from '../model/state.js';
import type { MirrorAccess, PrepareOutcome } from './mirror-access.js';

/** Percent-encodes one path segment as devpi does in its links: `+` and `!` stay literal. */
function encodeSegment(seg: string): string {
  return encodeURIComponent(seg).replace(/%2B/gi, '+');
}

/**
 * devpi's `+e` path of a hashless upstream link (devpi-server `filestore.key_from_link`):
 * `{mirrorStage}/+e/{scheme}_{host}_{port}_{dir…}/{filename}`, every character outside
 * `[A-Za-z0-9_.-]` of the directory part replaced by `_`.
 */
export function mirrorExternalPath(mirrorStage: string, link: Pick<MirrorLink, 'url' | 'filename'>): string {
  const url = new URL(link.url);
  const parts = `${url.protocol.replace(/:$/, '')}/${url.host}${url.pathname}`.split('/');
  const dirname = parts.slice(0, -1).join('_').replace(/[^a-zA-Z0-9_.-]/g, '_');
  return `${mirrorStage}/+e/${dirname}/${link.filename}`;
}

/** The server path of a mirror link: `+f/…` with a sha256, else its `+e/…` path. */
export function mirrorLinkEntrypath(mirrorStage: string, link: MirrorLink): string {
  return link.sha256 ? entrypathFor(mirrorStage, link.sha256, link.filename) : mirrorExternalPath(mirrorStage, link);
}

/**
 * Makes the cached pages of the mirrors that may serve `project` for `stage` usable (awaits a
 * first fetch); resolves with their outcomes (`error` when nothing is cached and upstream failed).
 */
export async function prepareMirrorPages(state: StateReader, mirrors: MirrorAccess | undefined, stage: string, project: string): Promise<PrepareOutcome[]> {
  if (!mirrors) return [];
  const policy = mirrorPolicy(state, stage, project);
  if (!policy.allowed) return [];
  return Promise.all(policy.mirrors.map((m) => mirrors.prepare(m, project) ?? {}));
}

/** Result of {@link mirrorVersionViews}. */
export interface MirrorVersionViews {
  /** true when an allowed mirror has a cached page of the project (even one without files) */
  known: boolean;
  /** version → devpi `verdata` (`name`, `version`, `+links`), first mirror in the order wins */
  versions: Map<string, Record<string, unknown>>;
}

/** The mirrored versions of `project` as seen from `stage` (see module doc); `base` is the server's outside URL. */
export function mirrorVersionViews(state: StateReader, stage: string, rawProject: string, base: string): MirrorVersionViews {
  const project = normalizeProjectName(rawProject);
  const policy = mirrorPolicy(state, stage, project);
  const out: MirrorVersionViews = { known: false, versions: new Map() };
  if (!policy.allowed) return out;
  for (const m of policy.mirrors) {
    const rec = getMirrorProject(state, m, project);
    if (!rec) continue;
    out.known = true;
    const byVersion = new Map<string, Record<string, unknown>[]>();
    for (const link of rec.links) {
      if (!link.version || out.versions.has(link.version)) continue;
      const href = `${base}/${mirrorLinkEntrypath(m, link).split('/').map(encodeSegment).join('/')}`;
      const view: Record<string, unknown> = { rel: 'releasefile', href };
      if (link.sha256) {
        view['hash_spec'] = `sha256=${link.sha256}`;
        view['hashes'] = { sha256: link.sha256 };
      }
      if (link.requires_python) view['requires_python'] = link.requires_python;
      if (link.yanked) view['yanked'] = link.yanked;
      const list = byVersion.get(link.version) ?? [];
      list.push(view);
      byVersion.set(link.version, list);
    }
    for (const [version, links] of byVersion) out.versions.set(version, { name: rec.name || project, version, '+links': links });
  }
  return out;
}
