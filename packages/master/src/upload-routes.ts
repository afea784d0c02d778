/**
 * Uploads into a stage index: the legacy upload API (`POST /{user}/{index}/` as
 * `multipart/form-data` with `:action` `file_upload`, `doc_upload` or `submit`, devpi §1.9, or
 * `application/x-www-form-urlencoded` as devpi-server sends `submit` when it pushes; see
 * `upload/legacy-upload.ts`) and test results (`POST /{user}/{index}/+f/{release file path}` with
 * tox's JSON report, devpi §1.10). A POST on an index that is not a form is a push: it goes on to
 * the push routes.
 */
import express, { type Router } from 'express';
import type { Changelog, FileStore } from '@wheelhouse/changelog';
import {
  BadRequestError,
  FIELD_LIMITS,
  ForbiddenError,
  assertJsonDepth,
  assertMaxBytes,
  aclAllows,
  type Principal,
  attachToxResult,
  handle,
  param,
  principalOf,
  requireStage,
  validSegments,
  type Authenticator,
} from '@wheelhouse/core';
import { handleLegacyUpload } from './upload/legacy-upload.js';
import { jsonBody, sendWrite, type WriteAnswer } from './write-answer.js';

/** Dependencies of the upload routes. */
export interface UploadRoutesDeps {
  changelog: Changelog;
  files: FileStore;
  auth: Authenticator;
  /** Largest release file accepted, bytes. */
  maxFileBytes: number;
}

/**
 * Stores a test result `body` (any JSON) for the release file at `forEntrypath` (`{user}/{index}/+f/…`)
 * by `who`: 200 `toxresultpath`; 400 for a mirror index, no body or one nested too deep, 413 over
 * `FIELD_LIMITS.toxResultBytes` as JSON, 409 when the file has `FIELD_LIMITS.toxResultsPerFile`, 403 when the index's
 * `acl_toxresult_upload` does not let `who` upload, 404 unknown index or release file.
 */
export async function uploadToxResult(
  deps: Pick<UploadRoutesDeps, 'changelog' | 'files'>,
  who: Principal,
  at: { user: string; index: string; path: string },
  body: unknown,
): Promise<WriteAnswer> {
  const cfg = requireStage(deps.changelog, at.user, at.index, 'upload test results to');
  if (!aclAllows(cfg.acl_toxresult_upload, who)) {
    throw new ForbiddenError('No permission to upload tox results. You can use the devpi test --no-upload option to skip the upload.');
  }
  if (body === undefined) throw new BadRequestError('a test result must be a JSON body');
  assertJsonDepth('the test result', body);
  const bytes = Buffer.from(JSON.stringify(body));
  assertMaxBytes('test result', bytes.length, FIELD_LIMITS.toxResultBytes);
  const forEntrypath = `${at.user}/${at.index}/+f/${at.path}`;
  const blob = await deps.files.putBytes(bytes);
  const { serial, result } = await deps.changelog.write((tx) => attachToxResult(tx, forEntrypath, blob, who?.name ?? null));
  return { status: 200, envelope: { type: 'toxresultpath', result: `${result.entrypath}#sha256=${result.sha256}` }, serial };
}

/** Builds the upload routes (see module doc). */
export function uploadRoutes(deps: UploadRoutesDeps): Router {
  const router = express.Router();
  validSegments(router);
  const legacyUpload = handle(async (req, res) => {
    await handleLegacyUpload(deps, req, res, `${param(req, 'user')}/${param(req, 'index')}`, await principalOf(deps.auth, req));
  });
  router.post('/:user/:index{/}', (req, res, next) => {
    // a form: multipart (uploads) or url-encoded (devpi-server's `:action=submit` when it pushes to another server)
    if (/^(multipart\/form-data|application\/x-www-form-urlencoded)/i.test(req.headers['content-type'] ?? '')) legacyUpload(req, res, next);
    else next();
  });
  router.post('/:user/:index/\\+f/*rest', jsonBody, handle(async (req, res) => {
    const at = { user: param(req, 'user'), index: param(req, 'index'), path: param(req, 'rest') };
    await sendWrite(res, await uploadToxResult(deps, await principalOf(deps.auth, req), at, req.body));
  }));
  return router;
}
