/**
 * The write half of devpi's HTTP API, served by the master only: login, users, indexes, uploads,
 * push, deletions and test results. Every write is one changelog transaction; the response carries
 * its serial in `X-Devpi-Serial`. Bodies are validated before anything is written.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Changelog, FileStore } from '@wheelhouse/changelog';
import {
  BadRequestError,
  ForbiddenError,
  UnauthorizedError,
  aclAllows,
  attachToxResult,
  checkIndexConfigInput,
  checkIndexConfigOps,
  checkPushBody,
  checkUserCreateBody,
  checkUserPatchBody,
  compileChecker,
  createIndex,
  createUser,
  deleteFile,
  deleteIndex,
  deleteProject,
  deleteUser,
  deleteVersion,
  handle,
  hashPassword,
  modifyIndex,
  modifyUser,
  normalizeProjectName,
  param,
  principalOf,
  pushRelease,
  requireIndex,
  requireStage,
  userView,
  validSegments,
  LOGIN_EXPIRATION_SECONDS,
  type Authenticator,
  type IndexConfig,
} from '@wheelhouse/core';
import { sendJson } from '@wheelhouse/http';
import { handleLegacyUpload } from './upload/legacy-upload.js';

/** Dependencies of the write API. */
export interface WriteApiDeps {
  changelog: Changelog;
  files: FileStore;
  auth: Authenticator;
  /** Largest release file accepted, bytes. */
  maxFileBytes: number;
}

const checkLoginBody = compileChecker<{ user: string; password: string }>(
  {
    type: 'object',
    required: ['user', 'password'],
    properties: { user: { type: 'string' }, password: { type: 'string' } },
    additionalProperties: false,
  },
  'Bad request: no user/password specified',
);

/** JSON bodies: parsed whatever the Content-Type says (devpi-client and curl users omit it). */
const json = express.json({ type: () => true, strict: false, limit: '10mb' });

function setSerial(res: Response, serial: number | null): void {
  if (serial !== null) res.setHeader('X-Devpi-Serial', String(serial));
}

/** The authenticated user, or 401. */
async function requireLogin(auth: Authenticator, req: Request): Promise<string> {
  const who = await principalOf(auth, req);
  if (who === undefined) throw new UnauthorizedError('authentication required');
  return who;
}

/** Builds the write router (see module doc). */
export function createWriteApi(deps: WriteApiDeps): Router {
  const { changelog, auth } = deps;
  const router = express.Router();
  validSegments(router);

  /** root, or the user named in the URL; 401 anonymous, 403 others. */
  const requireRootOrSelf = async (req: Request, user: string): Promise<string> => {
    const who = await requireLogin(auth, req);
    if (who !== 'root' && who !== user) throw new ForbiddenError(`user '${who}' may not modify user '${user}'`);
    return who;
  };
  /** may delete in an index: its acl_upload, its owner, root. */
  const requireDeleter = async (req: Request, user: string, index: string): Promise<void> => {
    const cfg: IndexConfig = requireIndex(changelog, user, index);
    const who = await principalOf(auth, req);
    if (who === 'root' || who === user || (cfg.type === 'stage' && aclAllows(cfg.acl_upload, who))) return;
    if (who === undefined) throw new UnauthorizedError(`authentication required to delete from ${user}/${index}`);
    throw new ForbiddenError(`user '${who}' may not delete from ${user}/${index}`);
  };

  router.post('/\\+login', json, handle(async (req, res) => {
    const body = checkLoginBody(req.body);
    const user = await auth.check({ user: body.user, secret: body.password });
    if (!user) throw new UnauthorizedError(`user '${body.user}' could not be authenticated`);
    sendJson(res, 200, {
      type: 'proxyauth',
      result: { password: auth.tokens.issue(user), expiration: LOGIN_EXPIRATION_SECONDS },
      message: 'login successful',
    });
  }));

  router.put('/:user{/}', json, handle(async (req, res) => {
    const user = param(req, 'user');
    const body = checkUserCreateBody(req.body);
    if (body.password === undefined && body.pwhash === undefined) throw new BadRequestError('password needs to be set');
    const { password, ...fields } = body;
    const pwhash = password !== undefined ? await hashPassword(password) : body.pwhash;
    const { serial } = await changelog.write((tx) => createUser(tx, user, { ...fields, ...(pwhash ? { pwhash } : {}) }));
    setSerial(res, serial);
    sendJson(res, 201, { type: 'userconfig', result: userView(changelog, user) });
  }));

  router.patch('/:user{/}', json, handle(async (req, res) => {
    const user = param(req, 'user');
    await requireRootOrSelf(req, user);
    const { password, indexes: _i, username: _u, created: _c, modified: _m, ...fields } = checkUserPatchBody(req.body);
    const pwhash = password ? await hashPassword(password) : fields.pwhash;
    const { serial } = await changelog.write((tx) => modifyUser(tx, user, { ...fields, ...(pwhash ? { pwhash } : {}) }));
    setSerial(res, serial);
    if (password) {
      sendJson(res, 200, {
        type: 'userpassword',
        result: { password: auth.tokens.issue(user), expiration: LOGIN_EXPIRATION_SECONDS },
        message: 'user updated, new proxy auth',
      });
    } else sendJson(res, 200, { message: 'user updated' });
  }));

  router.delete('/:user{/}', handle(async (req, res) => {
    const user = param(req, 'user');
    await requireRootOrSelf(req, user);
    const { serial } = await changelog.write((tx) => deleteUser(tx, user));
    setSerial(res, serial);
    sendJson(res, 200, { message: `user '${user}' deleted` });
  }));

  router.put('/:user/:index{/}', json, handle(async (req, res) => {
    const user = param(req, 'user');
    const index = param(req, 'index');
    await requireRootOrSelf(req, user);
    const input = checkIndexConfigInput(req.body ?? {});
    const { serial, result } = await changelog.write((tx) => createIndex(tx, user, index, input));
    setSerial(res, serial);
    sendJson(res, 200, { type: 'indexconfig', result });
  }));

  router.patch('/:user/:index{/}', json, handle(async (req, res) => {
    const user = param(req, 'user');
    const index = param(req, 'index');
    await requireRootOrSelf(req, user);
    let body: unknown = req.body;
    if (body && typeof body === 'object' && !Array.isArray(body) && (body as { type?: unknown }).type === 'indexconfig' && 'result' in body) {
      body = (body as { result: unknown }).result; // devpi also accepts its own envelope
    }
    const change = Array.isArray(body) ? checkIndexConfigOps(body) : checkIndexConfigInput(body ?? {});
    const errorOnNoop = req.query['error_on_noop'] !== undefined;
    const { serial, result } = await changelog.write((tx) => modifyIndex(tx, user, index, change, errorOnNoop));
    setSerial(res, serial);
    sendJson(res, 200, { type: 'indexconfig', result });
  }));

  router.delete('/:user/:index{/}', handle(async (req, res) => {
    const user = param(req, 'user');
    const index = param(req, 'index');
    await requireRootOrSelf(req, user);
    const { serial } = await changelog.write((tx) => deleteIndex(tx, user, index));
    setSerial(res, serial);
    sendJson(res, 201, { message: `index ${user}/${index} deleted` });
  }));

  // POST (or PUSH, rewritten to POST at the connection) on an index: upload form or push request
  router.post('/:user/:index{/}', handle(async (req, res) => {
    const stage = `${param(req, 'user')}/${param(req, 'index')}`;
    const who = await principalOf(auth, req);
    if (/^multipart\/form-data/i.test(req.headers['content-type'] ?? '')) {
      await handleLegacyUpload(deps, req, res, stage, who);
      return;
    }
    await new Promise<void>((resolve, reject) => json(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
    const body = checkPushBody(req.body);
    requireIndex(changelog, param(req, 'user'), param(req, 'index'));
    const { serial, result } = await changelog.write((tx) => pushRelease(tx, stage, body, who));
    setSerial(res, serial);
    sendJson(res, 200, { type: 'actionlog', result });
  }));

  router.post('/:user/:index/\\+f/*rest', json, handle(async (req, res) => {
    const user = param(req, 'user');
    const index = param(req, 'index');
    const cfg = requireStage(changelog, user, index, 'upload test results to');
    const who = await principalOf(auth, req);
    if (!aclAllows(cfg.acl_toxresult_upload, who)) {
      throw new ForbiddenError('No permission to upload tox results. You can use the devpi test --no-upload option to skip the upload.');
    }
    if (req.body === undefined) throw new BadRequestError('a test result must be a JSON body');
    const forEntrypath = `${user}/${index}/+f/${param(req, 'rest')}`;
    const blob = await deps.files.putBytes(Buffer.from(JSON.stringify(req.body)));
    const { serial, result } = await changelog.write((tx) => attachToxResult(tx, forEntrypath, blob, who ?? null));
    setSerial(res, serial);
    sendJson(res, 200, { type: 'toxresultpath', result: `${result.entrypath}#sha256=${result.sha256}` });
  }));

  router.delete('/:user/:index/\\+f/*rest', handle(async (req, res) => {
    const user = param(req, 'user');
    const index = param(req, 'index');
    await requireDeleter(req, user, index);
    const entrypath = `${user}/${index}/+f/${param(req, 'rest')}`;
    const { serial } = await changelog.write((tx) => deleteFile(tx, entrypath, req.query['force'] !== undefined));
    setSerial(res, serial);
    sendJson(res, 200, { message: `package '${entrypath}' deleted` });
  }));

  router.delete('/:user/:index/:project{/}', handle(async (req, res) => {
    const user = param(req, 'user');
    const index = param(req, 'index');
    await requireDeleter(req, user, index);
    const project = normalizeProjectName(param(req, 'project'));
    const stage = `${user}/${index}`;
    const { serial } = await changelog.write((tx) => deleteProject(tx, stage, project, req.query['force'] !== undefined));
    setSerial(res, serial);
    sendJson(res, 200, { message: `project ${project} deleted from stage ${stage}` });
  }));

  router.delete('/:user/:index/:project/:version{/}', handle(async (req, res) => {
    const user = param(req, 'user');
    const index = param(req, 'index');
    await requireDeleter(req, user, index);
    const project = normalizeProjectName(param(req, 'project'));
    const version = param(req, 'version');
    const { serial } = await changelog.write((tx) => deleteVersion(tx, `${user}/${index}`, project, version, req.query['force'] !== undefined));
    setSerial(res, serial);
    sendJson(res, 200, { message: `project '${project}' version '${version}' deleted` });
  }));

  return router;
}
