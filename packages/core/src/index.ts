/** The index model and the read HTTP API shared by every node. */
export * from './errors.js';
export * from './names.js';
export * from './versions.js';
export * from './acl.js';
export * from './validation.js';
export * from './wheel-metadata.js';
export * from './model/records.js';
export {
  formatKey,
  keyKind,
  keys,
  lastSegment,
  parseKey,
  type FileKey,
  type IndexKey,
  type KeyKind,
  type MirrorListKey,
  type MirrorProjectKey,
  type ProjectKey,
  type ReleaseKey,
  type StorageKey,
  type UserKey,
} from './model/keys.js';
export { entrypathFor, parseEntrypath, parseStage, siblingEntrypath, splitStage, stageOfEntrypath, stagePath, type Entrypath } from './model/stage-paths.js';
export { blobsNamedBy, blobsNamedByState } from './model/named-blobs.js';
export * from './model/state.js';
export * from './model/users.js';
export * from './model/indexes.js';
export * from './model/releases.js';
export * from './model/push.js';
export * from './model/mirrors.js';
export * from './auth/passwords.js';
export * from './auth/tokens.js';
export * from './auth/authenticator.js';
export * from './http/negotiate.js';
export * from './http/html.js';
export * from './http/simple-pages.js';
export { createFastPath, type FastPath, type FastPathDeps } from './http/fast-path.js';
export { routeRead, normalizePlus, type ReadRoute } from './http/read-route.js';
export { answerSimple, canonicalRedirect, sendPage, type SimplePageDeps, type SimpleRequest } from './http/simple-page-response.js';
export { answerReleaseFile, findFileTarget, type BlobPaths, type FileTarget, type ReleaseFileDeps } from './http/release-file-response.js';
export { findMirrorFile, type MirrorFileTarget } from './http/mirror-file-route.js';
export * from './http/mirror-access.js';
export { mirrorExternalPath, mirrorLinkEntrypath, mirrorVersionViews, prepareMirrorPages, type MirrorVersionViews } from './http/mirror-views.js';
export { mirrorListBody } from './http/mirror-list-body.js';
export * from './http/stream-while-storing.js';
export * from './http/blob-cache.js';
export { outsideUrl } from './http/outside-url.js';
export { createErrorHandler } from './http/error-handler.js';
export * from './http/request-log.js';
export * from './http/read-api.js';
export * from './http/metrics.js';
export * from './web/index.js';
// kept for packages/replica/src/file-replicator.ts, which another change of issue 10 moves; import it from @wheelhouse/http
export { contentTypeFor } from '@wheelhouse/http';
