/**
 * Projects, releases and their files in stage indexes: upload (legacy API semantics of devpi
 * §1.9), doc zips, test results, deletion (§1.7–1.8) and the views merged over the resolution order
 * (§3.3: versions = union, version data = first stage that has it, a file name seen in an earlier
 * stage hides later ones).
 */
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { assertSafeFileName, assertValidProjectName, normalizeProjectName, parseFileName, wheelEscape } from '../names.js';
import { sortVersions, latestVersion, samePep440, isPep440 } from '../versions.js';
import { FIELD_LIMITS, assertMaxBytes, assertMaxLength, utf8Bytes } from './field-limits.js';
import {
  logTime,
  type FileEntry,
  type LogEntry,
  type ProjectRecord,
  type ReleaseLink,
  type ReleaseMetadata,
  type ReleaseRecord,
} from './records.js';
import { keys, lastSegment } from './keys.js';
import { entrypathFor, siblingEntrypath, splitStage, stageOfEntrypath } from './stage-paths.js';
import type { StateReader, WriteTx } from './state.js';
import { deleteProjectContent, deleteReleaseKey, requireIndex, requireStage, resolutionOrder } from './indexes.js';
import { assertVersionAllowed } from './release-policy.js';

/** A release found in some stage of a resolution order. */
export interface StageRelease {
  stage: string;
  version: string;
  record: ReleaseRecord;
}

/** The project record of one stage, or undefined. */
export function getProject(state: StateReader, stage: string, project: string): ProjectRecord | undefined {
  return state.get<ProjectRecord>(keys.project(stage, project));
}

/** Versions of a project in one stage, PEP 440 ascending. */
export function stageVersions(state: StateReader, stage: string, project: string): string[] {
  return sortVersions(state.children(keys.releasesOf(stage, project)).map(lastSegment));
}

/** True when any stage of `stage`'s resolution order has the project. */
export function projectExists(state: StateReader, stage: string, project: string): boolean {
  return resolutionOrder(state, stage).some((s) => getProject(state, s, project) !== undefined);
}

/**
 * Every version of a project over the resolution order (`ignoreBases`: this stage only): for each
 * version the first stage that has it, plus the later ones that it shadows. PEP 440 ascending.
 */
export function mergedReleases(
  state: StateReader,
  stage: string,
  project: string,
  ignoreBases = false,
): Array<StageRelease & { shadowing: StageRelease[] }> {
  const byVersion = new Map<string, StageRelease & { shadowing: StageRelease[] }>();
  for (const s of ignoreBases ? [stage] : resolutionOrder(state, stage)) {
    for (const version of stageVersions(state, s, project)) {
      const record = state.get<ReleaseRecord>(keys.release(s, project, version))!;
      const found = byVersion.get(version);
      if (found) found.shadowing.push({ stage: s, version, record });
      else byVersion.set(version, { stage: s, version, record, shadowing: [] });
    }
  }
  return sortVersions(byVersion.keys()).map((v) => byVersion.get(v)!);
}

/** A file to attach to a release. */
export interface NewFile {
  filename: string;
  sha256: string;
  /** bytes */
  size: number;
  /** PEP 658 METADATA blob hash (wheels). */
  metadataSha256?: string;
}

/** Result of attaching a file: devpi answers 200 in every case, with different messages. */
export type AttachOutcome = 'created' | 'overwritten' | 'identical';

/**
 * Checks the name and version of a new upload or registration (400 each): a valid project name of
 * at most {@link FIELD_LIMITS}.projectName characters, a PEP 440 version of at most
 * {@link FIELD_LIMITS}.version characters. Only new uploads are checked: devpi accepted legacy
 * (non-PEP 440) versions, and those already stored (or pushed, or imported) stay readable.
 */
export function validateNewRelease(name: string, version: string): void {
  if (!name) throw new BadRequestError('missing "name" in the upload form');
  assertMaxLength('name', name, FIELD_LIMITS.projectName);
  assertValidProjectName(name);
  if (!version) throw new BadRequestError('missing "version" in the upload form');
  assertMaxLength('version', version, FIELD_LIMITS.version);
  if (/[<>%#"/\\\s]/.test(version) || !isPep440(version)) {
    throw new BadRequestError(`invalid version '${version}': it must be a PEP 440 version (such as 1.0, 2.1.0rc1, 1.0.post1)`);
  }
}

/**
 * Checks {@link FIELD_LIMITS} on release metadata from an upload form: `description` over
 * {@link FIELD_LIMITS}.releaseDescriptionBytes → 413; `summary` and other scalar fields too long,
 * or a list field with too many entries → 400. Each message names the field and the limit.
 */
export function checkReleaseMetadataLimits(meta: ReleaseMetadata): void {
  for (const [key, value] of Object.entries(meta)) {
    if (key === 'name' || key === 'version') continue;
    if (Array.isArray(value)) {
      if (value.length > FIELD_LIMITS.releaseListEntries) {
        throw new BadRequestError(`"${key}" has ${value.length} entries; the limit is ${FIELD_LIMITS.releaseListEntries}`);
      }
      for (const v of value) assertMaxLength(key, v, FIELD_LIMITS.releaseField);
    } else if (key === 'description') assertMaxBytes(key, utf8Bytes(value), FIELD_LIMITS.releaseDescriptionBytes);
    else assertMaxLength(key, value, key === 'summary' ? FIELD_LIMITS.summary : FIELD_LIMITS.releaseField);
  }
}

/**
 * Checks what devpi checks on `file_upload` (400 each), plus {@link validateNewRelease}: a valid
 * project name, a PEP 440 version, a safe file name with an allowed extension that belongs to this
 * project and contains the version.
 */
export function validateReleaseFile(name: string, version: string, filename: string): void {
  validateNewRelease(name, version);
  assertSafeFileName(filename);
  const parsed = parseFileName(filename);
  if (!parsed || normalizeProjectName(parsed.name) !== normalizeProjectName(name)) {
    throw new BadRequestError(`${filename}: filename does not match project name '${name}'`);
  }
  if (parsed.version !== version && parsed.version !== wheelEscape(version) && !samePep440(parsed.version, version)) {
    throw new BadRequestError(`${filename}: the file name's version '${parsed.version}' is not the version '${version}' of the upload`);
  }
}

function ensureProject(tx: WriteTx, stage: string, name: string): string {
  const project = normalizeProjectName(name);
  if (!getProject(tx, stage, project)) {
    const rec: ProjectRecord = { name: project, display_name: name, created: tx.at };
    tx.set(keys.project(stage, project), rec);
  }
  return project;
}

/**
 * Registers or updates version metadata (`metadata` merged over what the version had).
 * Returns the new record (not yet holding new links).
 */
function upsertRelease(tx: WriteTx, stage: string, metadata: ReleaseMetadata): { project: string; record: ReleaseRecord } {
  const project = ensureProject(tx, stage, metadata.name);
  const old = tx.get<ReleaseRecord>(keys.release(stage, project, metadata.version));
  const record: ReleaseRecord = {
    metadata: { ...(old?.metadata ?? {}), ...metadata },
    links: old ? [...old.links] : [],
  };
  return { project, record };
}

/**
 * Attaches a release file (or doc zip) to a version of a stage, creating project and version as
 * needed. Non-volatile index: same file name with other content → ConflictError (409), identical
 * content → 'identical' (nothing written). Volatile: the old file is replaced and logged as overwrite.
 * `history` replaces the default `upload` log entry (push passes the source's log plus a `push` entry).
 * A version the index's `allowed_versions` refuses → ReleasePolicyError (409, model/release-policy.ts).
 */
export function attachFile(
  tx: WriteTx,
  stage: string,
  metadata: ReleaseMetadata,
  file: NewFile,
  rel: 'releasefile' | 'doczip',
  who: string | null,
  history?: LogEntry[],
): AttachOutcome {
  const [user, index] = splitStage(stage);
  const cfg = requireStage(tx, user, index, 'upload to');
  assertVersionAllowed(cfg, stage, metadata.name, metadata.version);
  const { project, record } = upsertRelease(tx, stage, metadata);
  const existingAt = record.links.findIndex((l) => l.rel === rel && l.filename === file.filename);
  const existing = existingAt >= 0 ? record.links[existingAt] : undefined;
  let log: LogEntry[] = [];
  if (existing) {
    if (existing.sha256 === file.sha256) return 'identical';
    if (!cfg.volatile) throw new ConflictError(`${file.filename} already exists in non-volatile index`);
    const previous = existing.log.find((e) => e.what === 'overwrite')?.count ?? 0;
    log.push({ what: 'overwrite', who, when: logTime(tx.at), count: previous + 1 });
    record.links.splice(existingAt, 1);
    tx.delete(keys.file(existing.entrypath));
    // test results of the replaced file go with it
    for (const tox of record.links.filter((l) => l.for_entrypath === existing.entrypath)) tx.delete(keys.file(tox.entrypath));
    record.links = record.links.filter((l) => l.for_entrypath !== existing.entrypath);
  }
  log = [...log, ...(history ?? [{ what: 'upload', who, when: logTime(tx.at), dst: stage }])];
  const link = makeLink(stage, rel, file, tx.at, log, record.metadata);
  record.links.push(link);
  tx.set(keys.release(stage, project, metadata.version), record);
  putFileEntry(tx, link, project, metadata.version);
  return existing ? 'overwritten' : 'created';
}

function makeLink(
  stage: string,
  rel: ReleaseLink['rel'],
  file: NewFile,
  at: number,
  log: LogEntry[],
  metadata: ReleaseMetadata,
): ReleaseLink {
  const link: ReleaseLink = {
    rel,
    entrypath: entrypathFor(stage, file.sha256, file.filename),
    filename: file.filename,
    sha256: file.sha256,
    size: file.size,
    uploaded: at,
    log,
  };
  if (rel === 'releasefile') link.requires_python = typeof metadata['requires_python'] === 'string' ? metadata['requires_python'] : '';
  if (file.metadataSha256) link.metadata_sha256 = file.metadataSha256;
  return link;
}

function putFileEntry(tx: WriteTx, link: ReleaseLink, project: string, version: string): void {
  const entry: FileEntry = { sha256: link.sha256, size: link.size, project, version, rel: link.rel, modified: link.uploaded };
  if (link.metadata_sha256) entry.metadata_sha256 = link.metadata_sha256;
  tx.set(keys.file(link.entrypath), entry);
}

/** Registers version metadata without a file (`:action=submit`). */
export function registerRelease(tx: WriteTx, stage: string, metadata: ReleaseMetadata): void {
  const [user, index] = splitStage(stage);
  assertVersionAllowed(requireStage(tx, user, index, 'register releases in'), stage, metadata.name, metadata.version);
  const { project, record } = upsertRelease(tx, stage, metadata);
  tx.set(keys.release(stage, project, metadata.version), record);
}

/** The latest version of a project in one stage (for `doc_upload` without a version); 400 if none. */
export function latestStageVersion(state: StateReader, stage: string, project: string): string {
  const v = latestVersion(stageVersions(state, stage, project));
  if (!v) throw new BadRequestError(`project '${project}' has no versions in ${stage} to attach documentation to`);
  return v;
}

/**
 * Stores a test result for a release file (`entrypath` of that file). `toxFilename` follows devpi:
 * `{release file}.toxresult-{YYYYmmddHHMMSS}-{n}`. Returns the new link.
 */
export function attachToxResult(
  tx: WriteTx,
  forEntrypath: string,
  result: { sha256: string; size: number },
  who: string | null,
): ReleaseLink {
  const entry = tx.get<FileEntry>(keys.file(forEntrypath));
  if (!entry || entry.rel !== 'releasefile') throw new NotFoundError(`no release file found at ${forEntrypath}`);
  const stage = stageOfEntrypath(forEntrypath);
  const key = keys.release(stage, entry.project, entry.version);
  const record = structuredClone(tx.get<ReleaseRecord>(key)!) as ReleaseRecord;
  const basename = lastSegment(forEntrypath);
  const n = record.links.filter((l) => l.for_entrypath === forEntrypath).length;
  if (n >= FIELD_LIMITS.toxResultsPerFile) {
    throw new ConflictError(`${basename} already has ${n} test results; the limit is ${FIELD_LIMITS.toxResultsPerFile} per release file`);
  }
  const stamp = new Date(tx.at).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const filename = `${basename}.toxresult-${stamp}-${n}`;
  const link: ReleaseLink = {
    rel: 'toxresult',
    entrypath: siblingEntrypath(forEntrypath, filename),
    filename,
    sha256: result.sha256,
    size: result.size,
    uploaded: tx.at,
    log: [{ what: 'upload', who, when: logTime(tx.at), dst: stage }],
    for_entrypath: forEntrypath,
  };
  record.links.push(link);
  tx.set(key, record);
  putFileEntry(tx, link, entry.project, entry.version);
  return link;
}

function assertMayDelete(tx: WriteTx, stage: string, force: boolean, what: string): void {
  const [user, index] = splitStage(stage);
  const cfg = requireIndex(tx, user, index);
  if (!cfg.volatile && !force) throw new ForbiddenError(`${what}: ${stage} is non-volatile; add ?force to delete anyway`);
}

/** Deletes a project from one stage. 404 missing, 403 non-volatile without force. */
export function deleteProject(tx: WriteTx, stage: string, project: string, force: boolean): void {
  if (!getProject(tx, stage, project)) throw new NotFoundError(`project '${project}' does not exist in ${stage}`);
  assertMayDelete(tx, stage, force, `cannot delete project '${project}'`);
  deleteProjectContent(tx, stage, project);
}

/** Deletes one version; deleting the last version deletes the project. 404 / 403 as above. */
export function deleteVersion(tx: WriteTx, stage: string, project: string, version: string, force: boolean): void {
  const key = keys.release(stage, project, version);
  if (!tx.get(key)) throw new NotFoundError(`project '${project}' has no version '${version}' in ${stage}`);
  assertMayDelete(tx, stage, force, `cannot delete ${project} ${version}`);
  deleteReleaseKey(tx, key);
  if (tx.children(keys.releasesOf(stage, project)).length === 0) tx.delete(keys.project(stage, project));
}

/**
 * Deletes the `versions` of one project that exist (others are skipped) in one transaction and,
 * when none is left, the project; returns the versions deleted. 403 as {@link deleteVersion}. For
 * bulk removals (retention cleanup): `deleteVersion` looks at the remaining versions each time,
 * which over a transaction holding thousands of deletions is quadratic.
 */
export function deleteVersions(tx: WriteTx, stage: string, project: string, versions: readonly string[], force: boolean): string[] {
  const present = versions.filter((v) => tx.get(keys.release(stage, project, v)) !== undefined);
  if (present.length === 0) return [];
  assertMayDelete(tx, stage, force, `cannot delete versions of ${project}`);
  for (const v of present) deleteReleaseKey(tx, keys.release(stage, project, v));
  if (tx.children(keys.releasesOf(stage, project)).length === 0) tx.delete(keys.project(stage, project));
  return present;
}

/**
 * Deletes one file by entrypath (and the test results attached to it). Removing the last release
 * file of a version removes the version (and the project when it was the last). 404 / 403 as above.
 */
export function deleteFile(tx: WriteTx, entrypath: string, force: boolean): void {
  const entry = tx.get<FileEntry>(keys.file(entrypath));
  if (!entry) throw new NotFoundError(`no such file ${entrypath}`);
  const stage = stageOfEntrypath(entrypath);
  assertMayDelete(tx, stage, force, `cannot delete ${lastSegment(entrypath)}`);
  const key = keys.release(stage, entry.project, entry.version);
  const record = tx.get<ReleaseRecord>(key)!;
  const gone = new Set([entrypath, ...record.links.filter((l) => l.for_entrypath === entrypath).map((l) => l.entrypath)]);
  for (const p of gone) tx.delete(keys.file(p));
  const links = record.links.filter((l) => !gone.has(l.entrypath));
  if (entry.rel === 'releasefile' && !links.some((l) => l.rel === 'releasefile')) {
    deleteVersion(tx, stage, entry.project, entry.version, true);
  } else {
    tx.set(key, { ...record, links });
  }
}
