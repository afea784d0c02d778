/**
 * The one table from error codes to HTTP statuses. Errors keep a stable `code` and a message for
 * people (core's `WheelhouseError`, changelog's `ChangelogError`); which status a code answers is
 * decided here and nowhere else. A code not in the table is a defect: 500.
 */

/** HTTP status per error code (core's errors, then changelog's). */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  EBADREQUEST: 400,
  EUNAUTHORIZED: 401,
  EFORBIDDEN: 403,
  ENOTFOUND: 404,
  ENOTACCEPTABLE: 406,
  // a request body paused longer than the server's idle limit (node-server.ts)
  EREQUESTTIMEOUT: 408,
  ECONFLICT: 409,
  // a release refused by an index's release policy (allowed_versions, required_files)
  EPOLICY: 409,
  // a replica holds records past the start of a newer master term: it must rejoin (docs/operations.md)
  EDIVERGED: 409,
  // core's PayloadTooLargeError and changelog's TooLargeError (a stored file over its limit)
  ETOOLARGE: 413,
  // too many failed logins (or logins in progress) for a user or from an address (RFC 6585), with Retry-After
  ETOOMANYREQUESTS: 429,
  EBADGATEWAY: 502,
  EUNAVAILABLE: 503,
  // the LDAP directory that must check a directory user's password is unreachable (issue 15)
  EDIRECTORY: 503,
  // a master whose term a higher epoch superseded refuses every write until it rejoins
  EFENCED: 503,
  // a write committed on the master but fewer than --sync-replicas replicas confirmed it durable in time (core's NotReplicatedError)
  ENOTREPLICATED: 503,
  // a forwarded request got no answer in time (replica → master, proxy → backend)
  EGATEWAYTIMEOUT: 504,
  // a forwarded request came back to a node it already passed (RFC 8470's neighbour: 508 Loop Detected, RFC 5842)
  ELOOP: 508,
  // changelog: stored bytes differ from the sha256/size expected (e.g. upstream sent other bytes)
  EINTEGRITY: 502,
  // changelog: a storage write failed (nothing committed; writes refused until the store verified itself), and the disk-full case (RFC 4918 §11.5)
  ESTORAGE: 503,
  EDISKFULL: 507,
};

/** An error that carries a stable code (and optionally extra response headers). */
export interface CodedError {
  code: string;
  message: string;
  headers?: Readonly<Record<string, string>>;
}

/**
 * The base of every coded error: a stable `code` (a key of {@link ERROR_STATUS}), a message for
 * people, and extra response headers (`WWW-Authenticate`, `Retry-After`). Core's model errors
 * extend it; the proxy and the write forwarder throw it directly for gateway answers.
 */
export class NodeError extends Error implements CodedError {
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.headers = headers;
  }
}

/** True for an error whose `code` is in {@link ERROR_STATUS}. */
export function isMappedError(err: unknown): err is CodedError {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code);
}

/** express body-parser errors (`entity.parse.failed`, `entity.too.large`) carry their own 4xx status. */
export function isBodyParserError(err: unknown): err is { status: number; type: string; message: string } {
  return typeof err === 'object' && err !== null && 'type' in err && 'status' in err && typeof (err as { status: unknown }).status === 'number';
}

/** The HTTP status `err` answers: its code's status, a body-parser error's own, else 500. */
export function statusOf(err: unknown): number {
  if (isMappedError(err)) return ERROR_STATUS[err.code]!;
  if (isBodyParserError(err)) return err.status;
  return 500;
}
