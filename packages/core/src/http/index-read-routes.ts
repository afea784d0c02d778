/**
 * Read views of one index: `GET /{user}/{index}` — devpi's `indexconfig` (with `projects` unless
 * `?no_projects`), or the PEP 691 project list when the client asks for a simple API type —
 * `GET /{user}/{index}/+explain/{project}` (which stage each simple-page link comes from, and why a
 * mirror was skipped) and `GET /{user}/{index}/+f/{path}` (devpi's `releasefilemeta` of a file).
 */
import express, { type Router } from 'express';
import { NotFoundError } from '../errors.js';
import { indexView, requireIndex } from '../model/indexes.js';
import { explainProject } from '../model/mirrors.js';
import { type FileEntry } from '../model/records.js';
import { keys } from '../model/keys.js';
import type { StateReader } from '../model/state.js';
import { requireUser } from '../model/users.js';
import { negotiateSimple } from './negotiate.js';
import { sendEncodableBody, sendJson } from '@wheelhouse/http';
import { JsonViews } from './json-views.js';
import { param, validSegments } from './routing.js';
import type { SimplePages } from './simple-pages.js';

/** devpi's `releasefilemeta` result for a `+f` entrypath; NotFoundError (404) when there is no such file. */
export function releaseFileMeta(state: StateReader, entrypath: string): Record<string, unknown> {
  const entry = state.get<FileEntry>(keys.file(entrypath));
  if (!entry) throw new NotFoundError(`no such file ${entrypath}`);
  return {
    hash_spec: `sha256=${entry.sha256}`,
    hashes: { sha256: entry.sha256 },
    last_modified: new Date(entry.modified).toUTCString(),
    project: entry.project,
    version: entry.version,
    size: entry.size,
  };
}

/** Builds the index read routes (see module doc). */
export function indexReadRoutes(deps: { state: StateReader & { readonly head: number }; pages: SimplePages }): Router {
  const { state } = deps;
  const views = new JsonViews(state);
  const router = express.Router();
  validSegments(router);

  router.get('/:user/:index{/}', (req, res) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    requireUser(state, u);
    const accept = req.headers.accept ?? '';
    if (accept.includes('application/vnd.pypi.simple')) {
      const neg = negotiateSimple(accept);
      requireIndex(state, u, i);
      // the page cached per serial, compressed once per serial for clients that accept it
      const page = deps.pages.indexPage(`${u}/${i}`, neg?.format ?? 'json');
      sendEncodableBody(req, res, [], { contentType: neg?.type ?? 'application/vnd.pypi.simple.v1+json', caching: 'mutable', vary: 'Accept' }, page);
      return;
    }
    views.send(req, res, req.originalUrl, () => ({ type: 'indexconfig', result: indexView(state, u, i, req.query['no_projects'] !== undefined) }));
  });

  router.get('/:user/:index/\\+explain/:project', (req, res) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    requireIndex(state, u, i);
    sendJson(res, 200, { type: 'explain', result: explainProject(state, `${u}/${i}`, param(req, 'project')) });
  });

  router.get('/:user/:index/\\+f/*rest', (req, res) => {
    const entrypath = `${param(req, 'user')}/${param(req, 'index')}/+f/${param(req, 'rest')}`;
    sendJson(res, 200, { type: 'releasefilemeta', result: releaseFileMeta(state, entrypath) });
  });
  return router;
}
