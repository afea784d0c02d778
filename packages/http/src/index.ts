/** The HTTP layer every node shares: server, devpi headers, JSON and error answers, guard, file responses, status shapes. */
export { createNodeServer, HEADERS_TIMEOUT_MS, httpUrl, reachableHost, type Bound, type NodeServer, type NodeServerOptions, type TlsReload } from './node-server.js';
export { createRedirectServer, readTlsPair, TlsFileError, trustedCaContext, type NodeTlsOptions, type TlsPair } from './tls-files.js';
export { acceptPushMethod, rewritePush } from './push-method.js';
export { nodeFilePath, readNodeFile, removeNodeFile, writeNodeFile, type NodeFile } from './node-file.js';
export { EPOCH_HEADER, ROLE_HEADER, SERVER_VERSION, announcedRole, nodeHeaderList, setNodeHeaders, type NodeInfo } from './node-headers.js';
export type { KnownReplica, MasterStatus, MirrorStatus, NodeStatus, ProxyBackendStatus, ProxyStatus, ReplicaStatus } from './node-status.js';
export { ERROR_STATUS, NodeError, isBodyParserError, isMappedError, statusOf, type CodedError } from './error-status.js';
export { answerError, jsonText, publicMessage, sendError, sendJson, toReasonPhrase, type Envelope } from './respond.js';
export { COMPRESS_MIN_BYTES, encodedEtag, encodedVariant, negotiateEncoding, type ContentCoding, type EncodableBody } from './content-coding.js';
export { sendStoredPage, STORED_COMPRESS_MAX_BYTES, StoredPageVariants, storedPageVariants } from './stored-page-variants.js';
export { guard, type GuardOptions, type RawHandler } from './guard.js';
export {
  bodyHeaders,
  contentTypeFor,
  isNotModified,
  parseRange,
  planResponse,
  sendBody,
  sendStoredBody,
  type BodyMeta,
  type Caching,
  type Plan,
  type StoredBody,
} from './file-response.js';
export { PreparedHeaders, isPlainRead, sendEncodableBody } from './prepared-headers.js';
export { OpenFiles, type OpenFilesOptions } from './open-files.js';
export { keepPrivate, privateCacheControl } from './private-response.js';
