/** The index model and the read HTTP API shared by every node. */
export { BadGatewayError, BadRequestError, DivergedError, FencedError, ForbiddenError, GatewayTimeoutError, LoopDetectedError, NotFoundError, PayloadTooLargeError, ServiceUnavailableError, UnauthorizedError, WheelhouseError } from './errors.js';
export { assertValidProjectName, normalizeProjectName, parseFileName, wheelEscape } from './names.js';
export { aclAllows } from './acl.js';
export { ajv, compileChecker } from './validation.js';
export { readWheelMetadata, readWheelMetadataEntry } from './wheel-metadata.js';
export { type FileEntry, type IndexConfig, type LogEntry, type MirrorConfig, type MirrorLink, type MirrorListRecord, type MirrorProjectRecord, type ReleaseLink, type ReleaseMetadata, type ReleaseRecord, type StageConfig, type UserRecord } from './model/records.js';
export { checkWheelMetadata } from './wheel-check.js';
export { assertReadableZip } from './zip-check.js';
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
export { entrypathFor, siblingEntrypath, splitStage, stagePath } from './model/stage-paths.js';
export { blobsNamedBy, blobsNamedByState } from './model/named-blobs.js';
export { type StateReader } from './model/state.js';
export { checkUserCreateBody, checkUserPatchBody, createUser, deleteUser, listIndexNames, listUserNames, modifyUser, requireUser, userView } from './model/users.js';
export { checkIndexConfigInput, checkIndexConfigOps, createIndex, deleteIndex, getIndex, mirrorBaseUrl, mirrorCacheExpiry, modifyIndex, requireIndex, requireStage, stageProjectNames } from './model/indexes.js';
export { attachFile, attachToxResult, checkReleaseMetadataLimits, deleteFile, deleteProject, deleteVersion, latestStageVersion, mergedReleases, type NewFile, projectExists, registerRelease, stageVersions, validateNewRelease, validateReleaseFile } from './model/releases.js';
export { checkPushBody, pushRelease } from './model/push.js';
export { getMirrorProject, mirrorPolicy } from './model/mirrors.js';
export { hashPassword } from './auth/passwords.js';
export { LOGIN_EXPIRATION_SECONDS, REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS, replicaTokenSigner, TokenSigner } from './auth/tokens.js';
export { Authenticator } from './auth/authenticator.js';
export { clientAddress } from './auth/client-address.js';
export { type SimpleFormat } from './http/negotiate.js';
export { escapeHtml } from './http/html.js';
export { encodePath, type PageSource, SimplePages } from './http/simple-pages.js';
export { assertJsonDepth, assertMaxBytes, FIELD_LIMITS } from './model/field-limits.js';
export { createFastPath } from './http/fast-path.js';
export { type MirrorAccess, type PrepareOutcome } from './http/mirror-access.js';
export { mirrorLinkEntrypath } from './http/mirror-views.js';
export { mirrorListBody } from './http/mirror-list-body.js';
export { streamWhileStoring } from './http/stream-while-storing.js';
export { outsideUrl } from './http/outside-url.js';
export { createErrorHandler } from './http/error-handler.js';
export { logRequest } from './http/request-log.js';
export { createReadApi, handle, param, principalOf, validSegments } from './http/read-api.js';
export { createNodeMetrics, type NodeMetrics } from './http/metrics.js';
export { createWebRouter, SearchIndex } from './web/index.js';
export { BlobCollector, CLEANUP_PRINCIPAL, type CollectedState, createGcRouter, diskUsageByIndex, type FollowerPosition, type IndexUsage, registerGcMetrics, requireOperator, takeBlobLease, versionsToRemove } from './gc/index.js';
