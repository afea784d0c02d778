/**
 * Mirror indexes in the resolution order, and dependency-confusion protection (devpi §3.4,
 * "higher version attack"; devpi #451, #981): once a project name exists in a private stage of an
 * index's resolution order, no mirror contributes releases of that name — and the name is not even
 * sent upstream — unless the running `mirror_whitelist` (combined over the stages by the requesting
 * index's `mirror_whitelist_inheritance`: `intersection` or `union`) lists it or `*`.
 */
import { normalizeProjectName } from '../names.js';
import { sortVersions } from '../versions.js';
import type { MirrorLink, MirrorProjectRecord, ReleaseRecord } from './records.js';
import { keys } from './keys.js';
import { entrypathFor, splitStage } from './stage-paths.js';
import { getIndex, resolutionOrder } from './indexes.js';
import { getProject, stageVersions } from './releases.js';
import type { StateReader } from './state.js';

/** Whether, and why, the mirrors of a resolution order may serve a project. */
export interface MirrorPolicy {
  /** mirrors in the resolution order, in order */
  mirrors: string[];
  /** true when the mirrors may serve (and be asked about) the project */
  allowed: boolean;
  /** the first private stage that has the project (when any) */
  privateStage?: string;
  /** the stage whose whitelist let the project through (when any) */
  whitelistedBy?: string;
}

/** Decides whether mirrors may serve `project` for `stage` (see module doc). */
export function mirrorPolicy(state: StateReader, stage: string, project: string): MirrorPolicy {
  const order = resolutionOrder(state, stage);
  const [u, i] = splitStage(stage);
  const own = getIndex(state, u, i);
  const inheritance = own?.type === 'stage' ? own.mirror_whitelist_inheritance : 'union';
  const mirrors: string[] = [];
  let running: Set<string> | undefined;
  let whitelistedBy: string | undefined;
  let privateStage: string | undefined;
  for (const s of order) {
    const [su, si] = splitStage(s);
    const cfg = getIndex(state, su, si);
    if (!cfg) continue;
    if (cfg.type === 'mirror') {
      mirrors.push(s);
      continue;
    }
    const list = new Set(cfg.mirror_whitelist);
    if (!running) running = list;
    else if (inheritance === 'union') running = new Set([...running, ...list]);
    else running = new Set([...running].filter((x) => list.has(x)));
    if (!whitelistedBy && (running.has('*') || running.has(project))) whitelistedBy = s;
    if (!whitelistedBy && !privateStage && getProject(state, s, project)) privateStage = s;
  }
  const policy: MirrorPolicy = { mirrors, allowed: mirrors.length > 0 && (whitelistedBy !== undefined || privateStage === undefined) };
  if (privateStage) policy.privateStage = privateStage;
  if (whitelistedBy) policy.whitelistedBy = whitelistedBy;
  return policy;
}

/** A mirror's cached page of a project, or undefined. */
export function getMirrorProject(state: StateReader, mirrorStage: string, project: string): MirrorProjectRecord | undefined {
  return state.get<MirrorProjectRecord>(keys.mirrorProject(mirrorStage, project));
}

/** One file of a simple page, private or mirrored, in PEP 691 terms. */
export interface SimpleFile {
  stage: string;
  filename: string;
  /** path below the server root (`{stage}/+f/…`), or an absolute upstream URL for hashless mirror links */
  href: string;
  absolute: boolean;
  sha256?: string;
  requires_python?: string;
  yanked?: boolean | string;
  /** PEP 658 metadata sha256 (a file we can serve at `href + .metadata`) */
  metadata_sha256?: string;
  size?: number;
  /** ISO 8601 */
  upload_time?: string;
  version: string;
}

/** The server path a mirror link is served at (hashed links), or undefined (link to upstream). */
function mirrorLinkPath(mirrorStage: string, link: MirrorLink): string | undefined {
  return link.sha256 ? entrypathFor(mirrorStage, link.sha256, link.filename) : undefined;
}

/**
 * The files of a simple page over the resolution order: private release files first (a file name
 * seen in an earlier stage hides later ones), then, when the policy allows, the mirrors' cached
 * links. Versions descending within a stage.
 */
export function simpleFiles(state: StateReader, stage: string, project: string, policy = mirrorPolicy(state, stage, project)): SimpleFile[] {
  const seen = new Set<string>();
  const out: SimpleFile[] = [];
  for (const s of resolutionOrder(state, stage)) {
    const [su, si] = splitStage(s);
    const cfg = getIndex(state, su, si);
    if (cfg?.type === 'mirror') {
      if (!policy.allowed) continue;
      const rec = getMirrorProject(state, s, project);
      for (const link of rec?.links ?? []) {
        if (seen.has(link.filename)) continue;
        seen.add(link.filename);
        const path = mirrorLinkPath(s, link);
        const file: SimpleFile = { stage: s, filename: link.filename, href: path ?? link.url, absolute: path === undefined, version: link.version };
        if (link.sha256) file.sha256 = link.sha256;
        if (link.requires_python) file.requires_python = link.requires_python;
        if (link.yanked) file.yanked = link.yanked;
        if (typeof link.core_metadata === 'string' && path) file.metadata_sha256 = link.core_metadata;
        if (link.size !== undefined) file.size = link.size;
        if (link.upload_time) file.upload_time = link.upload_time;
        out.push(file);
      }
      continue;
    }
    for (const version of stageVersions(state, s, project).reverse()) {
      const record = state.get<ReleaseRecord>(keys.release(s, project, version))!;
      for (const link of record.links) {
        if (link.rel !== 'releasefile' || seen.has(link.filename)) continue;
        seen.add(link.filename);
        const file: SimpleFile = {
          stage: s,
          filename: link.filename,
          href: link.entrypath,
          absolute: false,
          sha256: link.sha256,
          size: link.size,
          upload_time: new Date(link.uploaded).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
          version,
        };
        if (link.requires_python) file.requires_python = link.requires_python;
        if (link.metadata_sha256) file.metadata_sha256 = link.metadata_sha256;
        out.push(file);
      }
    }
  }
  return out;
}

/** Explains a project's simple page on an index: per stage, what it contributes or why it is skipped. */
export function explainProject(state: StateReader, stage: string, rawProject: string): Record<string, unknown> {
  const project = normalizeProjectName(rawProject);
  const policy = mirrorPolicy(state, stage, project);
  const files = simpleFiles(state, stage, project, policy);
  const stages = resolutionOrder(state, stage).map((s) => {
    const [su, si] = splitStage(s);
    const cfg = getIndex(state, su, si)!;
    const entry: Record<string, unknown> = { stage: s, type: cfg.type, files: files.filter((f) => f.stage === s).map((f) => f.filename) };
    if (cfg.type === 'mirror') {
      const rec = getMirrorProject(state, s, project);
      entry['cached'] = rec ? { fetched: new Date(rec.fetched).toISOString(), links: rec.links.length } : null;
      if (!policy.allowed) {
        entry['skipped'] = `'${project}' exists in the private stage ${policy.privateStage} and no mirror_whitelist in the resolution order lists it (or '*'): the mirror is not consulted and the name is not sent upstream`;
      }
    } else entry['has_project'] = getProject(state, s, project) !== undefined;
    return entry;
  });
  return {
    index: stage,
    project,
    mirrors_allowed: policy.allowed,
    ...(policy.privateStage ? { private_stage: policy.privateStage } : {}),
    ...(policy.whitelistedBy ? { whitelisted_by: policy.whitelistedBy } : {}),
    stages,
  };
}

/** True when any stage of the order has the project, or an allowed mirror has it cached. */
export function projectKnown(state: StateReader, stage: string, project: string, policy = mirrorPolicy(state, stage, project)): boolean {
  for (const s of resolutionOrder(state, stage)) {
    if (getProject(state, s, project)) return true;
    if (policy.allowed && policy.mirrors.includes(s) && getMirrorProject(state, s, project)) return true;
  }
  return false;
}

/** PEP 700 `versions`: private versions plus the versions of allowed mirrors' links, ascending. */
export function simpleVersions(state: StateReader, stage: string, project: string, files: SimpleFile[], policy: MirrorPolicy): string[] {
  const all = new Set<string>();
  for (const s of resolutionOrder(state, stage)) for (const v of stageVersions(state, s, project)) all.add(v);
  if (policy.allowed) {
    for (const m of policy.mirrors) {
      const rec = getMirrorProject(state, m, project);
      for (const v of rec?.versions ?? []) all.add(v);
    }
    for (const f of files) if (f.version) all.add(f.version);
  }
  return sortVersions(all);
}
