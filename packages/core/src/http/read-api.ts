/**
 * The read half of devpi's HTTP API as an express router any node mounts (master and replica):
 * `/+api`, `/+status`, `/+ready`, `/+metrics` (`service-routes.ts`), users (`/`, `/{user}`:
 * `user-read-routes.ts`), an index's config or PEP 691 project list, `+explain` and release file
 * metadata (`index-read-routes.ts`), project and version JSON with `+links`
 * (`project-read-routes.ts`). Reads answer from this node's own state only. This file only
 * composes them, in that order.
 */
import express, { type Router } from 'express';
import type { Authenticator } from '../auth/authenticator.js';
import { indexReadRoutes } from './index-read-routes.js';
import type { MirrorAccess } from './mirror-access.js';
import type { NodeMetrics } from './metrics.js';
import { projectReadRoutes } from './project-read-routes.js';
import { serviceRoutes } from './service-routes.js';
import type { PageSource, SimplePages } from './simple-pages.js';
import { userReadRoutes } from './user-read-routes.js';

// The express plumbing used to live here; the package face still offers it from this module.
export { handle, param, principalOf, validSegments } from './routing.js';

/** Dependencies of the read API. */
export interface ReadApiDeps {
  state: PageSource;
  pages: SimplePages;
  auth: Authenticator;
  /** The `/+status` result object of this node. */
  status: () => Record<string, unknown>;
  /** Configured outside URL (else taken from the request). */
  outsideUrl?: string;
  /** Readiness for `/+ready` (a proxy routes on it): a replica is ready once in sync. Default: ready. */
  ready?: () => { ready: boolean; reason?: string };
  /** Serves `/+metrics`. */
  metrics?: NodeMetrics;
  /** Mirror access of this node: project and version JSON then include the mirrors' releases (devpi). */
  mirrors?: MirrorAccess;
}

/** Builds the read router (see module doc). */
export function createReadApi(deps: ReadApiDeps): Router {
  const router = express.Router();
  router.use(serviceRoutes(deps));
  router.use(userReadRoutes(deps));
  router.use(indexReadRoutes(deps));
  router.use(projectReadRoutes(deps));
  return router;
}
