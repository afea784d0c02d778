/**
 * Page handler of `/{user}/{index}/{project}/{version}`: the release as the index sees it (first
 * stage of the resolution order that has the version), with its test results read from the file
 * store (at most 200 per release; a result whose bytes are not on this node yet shows as pending).
 */
import { readFile } from 'node:fs/promises';
import { NotFoundError } from '../errors.js';
import { requireIndex, resolutionOrder } from '../model/indexes.js';
import type { ReleaseLink } from '../model/records.js';
import { getProject, mergedReleases } from '../model/releases.js';
import type { StateReader } from '../model/state.js';
import type { DocBlobs } from './doc-zips.js';
import { canonicalProjectRedirect, pageOf, type PageRequest, type PageResult } from './page-result.js';
import { parseToxResult, type ToxSummary } from './tox-results.js';
import { versionPage } from './version-page.js';

/** Test results shown per release page, at most. */
const TOX_RESULTS_SHOWN = 200;

/** Parsed test results by the toxresult link's entrypath: undefined = unreadable, 'missing' = bytes not here. */
async function readToxResults(files: DocBlobs, links: readonly ReleaseLink[]): Promise<Map<string, ToxSummary | undefined | 'missing'>> {
  const out = new Map<string, ToxSummary | undefined | 'missing'>();
  await Promise.all(
    links
      .filter((l) => l.rel === 'toxresult')
      .slice(0, TOX_RESULTS_SHOWN)
      .map(async (l) => {
        try {
          out.set(l.entrypath, parseToxResult(await readFile(files.pathFor(l.sha256))));
        } catch {
          out.set(l.entrypath, 'missing');
        }
      }),
  );
  return out;
}

/**
 * `pass` for a mirror index, a redirect for a non-normalised project name, 404 for an unknown index
 * or a version no stage of the resolution order has.
 */
export async function versionHandler(
  deps: { state: StateReader; files: DocBlobs },
  params: { user: string; index: string; project: string; version: string },
  req: PageRequest,
): Promise<PageResult> {
  const { state } = deps;
  const { user, index, project, version } = params;
  if (requireIndex(state, user, index).type !== 'stage') return { kind: 'pass' };
  const redirect = canonicalProjectRedirect(project, req.originalUrl);
  if (redirect) return redirect;
  const stage = `${user}/${index}`;
  const releases = mergedReleases(state, stage, project);
  const found = releases.find((r) => r.version === version);
  if (!found) throw new NotFoundError(`no version '${version}' of project '${project}' in ${stage}`);
  const toxResults = await readToxResults(deps.files, found.record.links);
  const name = getProject(state, found.stage, project)?.display_name
    ?? resolutionOrder(state, stage).map((s) => getProject(state, s, project)).find((r) => r)?.display_name
    ?? project;
  return pageOf(versionPage({
    base: req.base,
    user,
    index,
    project,
    name,
    version,
    stage: found.stage,
    record: found.record,
    shadowing: found.shadowing.map((s) => s.stage),
    versions: releases.map((r) => r.version).reverse(),
    toxResults,
  }));
}
