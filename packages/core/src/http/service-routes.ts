/**
 * The node's own read endpoints: `/+api` (also under a user and an index: devpi-client's
 * discovery, §1.2), `/+status`, `/+ready` (readiness, apart from liveness: a proxy routes on it) and
 * `/+metrics` (Prometheus text).
 */
import express, { type Router } from 'express';
import type { Authenticator } from '../auth/authenticator.js';
import { NotFoundError } from '../errors.js';
import { requireIndex } from '../model/indexes.js';
import type { StateReader } from '../model/state.js';
import type { NodeMetrics } from './metrics.js';
import { sendJson } from '@wheelhouse/http';
import { outsideUrl } from './outside-url.js';
import { handle, param, principalOf, validSegments } from './routing.js';

/** Features announced in `/+api` (devpi's names; `server-keyvalue-parsing` enables the PATCH list form). */
const API_FEATURES = ['push-no-docs', 'push-only-docs', 'server-keyvalue-parsing'];

/**
 * devpi's `apiconfig` result for `base` (outside URL): login URL, auth status of `who` (undefined =
 * anonymous), features, and with `stage` (`user/index`) the index, simple and upload URLs of it.
 * NotFoundError (404) for an unknown stage.
 */
export function apiConfig(state: StateReader, base: string, who: string | undefined, stage?: { user: string; index: string }): Record<string, unknown> {
  const result: Record<string, unknown> = {
    login: `${base}/+login`,
    authstatus: who ? ['ok', who, []] : ['noauth', '', []],
    features: API_FEATURES,
  };
  if (stage) {
    const { user: u, index: i } = stage;
    requireIndex(state, u, i);
    result['index'] = `${base}/${u}/${i}`;
    result['simpleindex'] = `${base}/${u}/${i}/+simple/`;
    result['pypisubmit'] = `${base}/${u}/${i}/`;
  }
  return result;
}

/** Dependencies of the service routes. */
export interface ServiceRoutesDeps {
  state: StateReader;
  auth: Authenticator;
  /** The `/+status` result object of this node. */
  status: () => Record<string, unknown>;
  /** Configured outside URL (else taken from the request). */
  outsideUrl?: string;
  /** Readiness for `/+ready`: 200 when ready, else 503 with the reason. Default: ready. */
  ready?: () => { ready: boolean; reason?: string };
  /** Serves `/+metrics` (404 without). */
  metrics?: NodeMetrics;
}

/** Builds the service routes (see module doc). */
export function serviceRoutes(deps: ServiceRoutesDeps): Router {
  const router = express.Router();
  validSegments(router);
  const api = handle(async (req, res) => {
    const who = (await principalOf(deps.auth, req))?.name;
    const u = param(req, 'user');
    const i = param(req, 'index');
    const result = apiConfig(deps.state, outsideUrl(req, deps.outsideUrl), who, u && i ? { user: u, index: i } : undefined);
    sendJson(res, 200, { type: 'apiconfig', result });
  });
  router.get('/\\+api', api);
  router.get('/:user/\\+api', api);
  router.get('/:user/:index/\\+api', api);

  router.get('/\\+status', (_req, res) => sendJson(res, 200, { type: 'status', result: deps.status() }));
  router.get('/\\+metrics', handle(async (req, res) => {
    if (!deps.metrics) throw new NotFoundError('no metrics on this node');
    await deps.metrics.send(req, res);
  }));
  router.get('/\\+ready', (_req, res) => {
    const r = deps.ready?.() ?? { ready: true };
    sendJson(res, r.ready ? 200 : 503, { type: 'readiness', result: r, ...(r.reason ? { message: r.reason } : {}) });
  });
  return router;
}
