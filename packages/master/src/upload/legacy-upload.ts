/**
 * The legacy upload API (`POST /{user}/{index}/` with `:action`), devpi §1.9: `file_upload`,
 * `doc_upload` and `submit`. Permission is checked before the body is read (401 with
 * `WWW-Authenticate: Basic` for anonymous, 403 otherwise); the file is staged while streamed,
 * checked (name, version, extension, sha256, wheel METADATA), moved into the store and committed
 * with its metadata in one changelog record — or discarded, leaving the store as it was.
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Changelog, FileStore } from '@wheelhouse/changelog';
import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  aclAllows,
  type Principal,
  assertReadableZip,
  assertVersionAllowed,
  assertValidProjectName,
  attachFile,
  latestStageVersion,
  normalizeProjectName,
  checkReleaseMetadataLimits,
  checkWheelMetadata,
  readWheelMetadataEntry,
  registerRelease,
  validateNewRelease,
  requireIndex,
  splitStage,
  validateReleaseFile,
  type ReleaseMetadata,
} from '@wheelhouse/core';
import { field, parseUploadForm, type UploadForm } from './upload-form.js';
import { awaitReplicated } from '../write-ack.js';

/** Metadata form fields devpi reads (§1.9); `*` = repeated → list. */
const SCALAR_FIELDS = [
  'metadata_version', 'summary', 'home_page', 'author', 'author_email', 'maintainer', 'maintainer_email', 'license',
  'description', 'keywords', 'download_url', 'comment', 'requires_python', 'description_content_type',
  'license_expression',
];
const LIST_FIELDS = [
  'platform', 'classifiers', 'supported_platform', 'provides', 'requires', 'obsoletes', 'project_urls', 'provides_dist',
  'obsoletes_dist', 'requires_dist', 'requires_external', 'provides_extras', 'provides_extra', 'dynamic', 'license_file',
];

/** Version metadata from an upload form; `UNKNOWN` is stored as '' (devpi). */
export function metadataFromForm(form: UploadForm): ReleaseMetadata {
  const clean = (v: string): string => (v === 'UNKNOWN' ? '' : v);
  const meta: ReleaseMetadata = { name: field(form, 'name'), version: field(form, 'version') };
  for (const k of SCALAR_FIELDS) if (form.fields.has(k)) meta[k] = clean(field(form, k));
  for (const k of LIST_FIELDS) {
    const values = form.fields.get(k);
    if (values) meta[k === 'provides_extra' ? 'provides_extras' : k] = values.map(clean).filter((v) => v !== '');
  }
  return meta;
}

/** Dependencies of the upload handler. */
export interface UploadDeps {
  changelog: Changelog;
  files: FileStore;
  /** Largest file accepted, bytes. */
  maxFileBytes: number;
}

/**
 * Handles one legacy upload for `stage` by `who` (undefined = anonymous). Answers 200 with an empty
 * body on success (devpi), with `X-Devpi-Serial` set to the commit serial.
 */
export async function handleLegacyUpload(deps: UploadDeps, req: Request, res: Response, stage: string, who: Principal): Promise<void> {
  const [user, index] = splitStage(stage);
  const cfg = requireIndex(deps.changelog, user, index);
  if (cfg.type !== 'stage') {
    req.resume();
    throw new NotFoundError(`cannot submit to mirror index ${stage}`);
  }
  if (!aclAllows(cfg.acl_upload, who)) {
    req.resume();
    if (who === undefined) throw new UnauthorizedError(`authentication required to upload to ${stage}`);
    throw new ForbiddenError(`user '${who.name}' has no permission to upload to ${stage}`);
  }
  const form = await parseUploadForm(req, deps.files, {
    maxFileBytes: deps.maxFileBytes,
    beforeFile: (fields, filename) => {
      const action = fields.get(':action')?.[0];
      if (action !== 'file_upload') return;
      const [name, version] = [fields.get('name')?.[0] ?? '', fields.get('version')?.[0] ?? ''];
      validateReleaseFile(name, version, filename);
      // a refused version is answered before its file is streamed (the commit checks again)
      if (cfg.type === 'stage') assertVersionAllowed(cfg, stage, name, version);
    },
  });
  try {
    const action = field(form, ':action');
    let serial: number | null = null;
    let message = '';
    if (action === 'file_upload') ({ serial, message } = await fileUpload(deps, form, stage, who));
    else if (action === 'doc_upload') ({ serial, message } = await docUpload(deps, form, stage, who));
    else if (action === 'submit') {
      const meta = metadataFromForm(form);
      validateMeta(meta);
      serial = (await deps.changelog.write((tx) => registerRelease(tx, stage, meta))).serial;
    } else if (!action) throw new BadRequestError('missing :action field in the upload form');
    else throw new BadRequestError(`action '${action}' not supported`);
    await awaitReplicated(res, serial, form.file?.staged.size ?? 0);
    if (serial !== null) res.setHeader('X-Devpi-Serial', String(serial));
    if (message) res.statusMessage = message;
    res.status(200).end();
  } finally {
    // whatever was not moved into the store is removed
    await form.file?.staged.discard();
  }
}

/** A registration's metadata: a valid name and PEP 440 version, and every field within its limit. */
function validateMeta(meta: ReleaseMetadata): void {
  validateNewRelease(meta.name, meta.version);
  checkReleaseMetadataLimits(meta);
}

async function fileUpload(deps: UploadDeps, form: UploadForm, stage: string, who: Principal): Promise<{ serial: number | null; message: string }> {
  const meta = metadataFromForm(form);
  if (!form.file) throw new BadRequestError('the upload form has no "content" file');
  const { filename, staged } = form.file;
  validateReleaseFile(meta.name, meta.version, filename);
  checkReleaseMetadataLimits(meta);
  let metadataBytes: Buffer | undefined;
  if (/\.whl$/i.test(filename)) {
    const entry = await readWheelMetadataEntry(staged.path, meta.name);
    checkWheelMetadata(filename, meta, entry.bytes, entry.distInfo);
    metadataBytes = entry.bytes;
  }
  const metadataSha256 = metadataBytes ? createHash('sha256').update(metadataBytes).digest('hex') : undefined;
  const { serial, result } = await deps.changelog.write(async (tx) => {
    const outcome = attachFile(
      tx,
      stage,
      meta,
      { filename, sha256: staged.sha256, size: staged.size, ...(metadataSha256 ? { metadataSha256 } : {}) },
      'releasefile',
      who?.name ?? null,
    );
    // the bytes are durable before the record that names them commits
    if (outcome !== 'identical') {
      await staged.commit();
      if (metadataBytes) await deps.files.putBytes(metadataBytes, { expectedSha256: metadataSha256! });
    }
    return outcome;
  });
  return { serial, message: result === 'identical' ? 'Upload of identical file to non volatile index.' : '' };
}

async function docUpload(deps: UploadDeps, form: UploadForm, stage: string, who: Principal): Promise<{ serial: number | null; message: string }> {
  const name = field(form, 'name');
  if (!name) throw new BadRequestError('missing "name" in the doc upload form');
  if (!form.file) throw new BadRequestError('the doc upload form has no "content" file');
  const { staged } = form.file;
  assertValidProjectName(name);
  const version = field(form, 'version');
  if (version) validateNewRelease(name, version);
  await assertReadableZip(staged.path, form.file.filename);
  const project = normalizeProjectName(name);
  const { serial } = await deps.changelog.write(async (tx) => {
    const docVersion = version || latestStageVersion(tx, stage, project);
    const filename = `${project}-${docVersion}.doc.zip`;
    const outcome = attachFile(tx, stage, { name, version: docVersion }, { filename, sha256: staged.sha256, size: staged.size }, 'doczip', who?.name ?? null);
    if (outcome !== 'identical') await staged.commit();
  });
  return { serial, message: '' };
}
