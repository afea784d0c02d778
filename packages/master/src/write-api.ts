/**
 * The write half of devpi's HTTP API, served by the master only: login and users
 * (`user-routes.ts`), indexes (`index-routes.ts`), uploads and test results (`upload-routes.ts`),
 * push (`push-routes.ts`) and deletions (`delete-routes.ts`). Every write is one changelog
 * transaction; the response carries its serial in `X-Devpi-Serial`. Bodies are validated before
 * anything is written. This file only composes the route modules, in that order (uploads before
 * push: both take `POST /{user}/{index}`).
 */
import express, { type Router } from 'express';
import type { Changelog, FileStore } from '@wheelhouse/changelog';
import type { Authenticator } from '@wheelhouse/core';
import { deleteRoutes } from './delete-routes.js';
import { indexRoutes } from './index-routes.js';
import { pushRoutes } from './push-routes.js';
import { uploadRoutes } from './upload-routes.js';
import { userRoutes } from './user-routes.js';
import { useReplicationGate, type ReplicationGate } from './write-ack.js';

/** Dependencies of the write API. */
export interface WriteApiDeps {
  changelog: Changelog;
  files: FileStore;
  auth: Authenticator;
  /** Largest release file accepted, bytes. */
  maxFileBytes: number;
  /** Only root may create users (master setting `restrict-user-creation`). */
  restrictUserCreation?: boolean;
  /** Acknowledged means replicated: awaited before each write answer (`write-ack.ts`); none = answer at once. */
  replicated?: ReplicationGate;
}

/** Builds the write router (see module doc). */
export function createWriteApi(deps: WriteApiDeps): Router {
  const router = express.Router();
  router.use(useReplicationGate(deps.replicated), userRoutes(deps), indexRoutes(deps), uploadRoutes(deps), pushRoutes(deps), deleteRoutes(deps));
  return router;
}
