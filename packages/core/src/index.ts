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
export * from './http/node-info.js';
export * from './http/negotiate.js';
export * from './http/html.js';
export * from './http/simple-pages.js';
export * from './http/file-response.js';
export * from './http/fast-path.js';
export * from './http/mirror-access.js';
export * from './http/stream-while-storing.js';
export * from './http/blob-cache.js';
export * from './http/respond.js';
export * from './http/error-handler.js';
export * from './http/request-log.js';
export * from './http/read-api.js';
export * from './http/metrics.js';
export * from './web/index.js';
