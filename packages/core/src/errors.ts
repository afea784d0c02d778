/**
 * Typed errors of the index model: a stable `code` and a message for people (plus response
 * headers some answers need). Which HTTP status a code answers is decided in one table,
 * `ERROR_STATUS` of `@wheelhouse/http`; the one error → response function there
 * (`sendError`) writes devpi's `{"message": …}` JSON. Model code throws these and never touches
 * HTTP objects.
 */
import { NodeError } from '@wheelhouse/http';

export class WheelhouseError extends NodeError {}

/** `EBADREQUEST` (400): the request is malformed or a value is invalid. */
export class BadRequestError extends WheelhouseError {
  constructor(message: string) {
    super('EBADREQUEST', message);
  }
}

/** `EUNAUTHORIZED` (401): credentials are required (or were wrong). Carries `WWW-Authenticate: Basic realm="pypi"` as devpi does. */
export class UnauthorizedError extends WheelhouseError {
  constructor(message: string) {
    super('EUNAUTHORIZED', message, { 'WWW-Authenticate': 'Basic realm="pypi"' });
  }
}

/** `EFORBIDDEN` (403): the authenticated (or anonymous) principal lacks the permission. */
export class ForbiddenError extends WheelhouseError {
  constructor(message: string) {
    super('EFORBIDDEN', message);
  }
}

/** `ENOTFOUND` (404): no such user, index, project, version, file or page. */
export class NotFoundError extends WheelhouseError {
  constructor(message: string) {
    super('ENOTFOUND', message);
  }
}

/** `ENOTACCEPTABLE` (406): none of the media types the client accepts can be served (PEP 691 negotiation). */
export class NotAcceptableError extends WheelhouseError {
  constructor(message: string) {
    super('ENOTACCEPTABLE', message);
  }
}

/** `ECONFLICT` (409): conflicts with existing state (existing user/index, file in a non-volatile index). */
export class ConflictError extends WheelhouseError {
  constructor(message: string) {
    super('ECONFLICT', message);
  }
}

/**
 * `EPOLICY` (409): a release refused by a release policy of the index (`allowed_versions`,
 * `required_files`; model/release-policy.ts). 409 as for other conflicts with the index's state:
 * the request is well-formed and authorised, the index's configuration refuses it.
 */
export class ReleasePolicyError extends WheelhouseError {
  constructor(message: string) {
    super('EPOLICY', message);
  }
}

/** `ETOOLARGE` (413): body larger than the configured limit. */
export class PayloadTooLargeError extends WheelhouseError {
  constructor(message: string) {
    super('ETOOLARGE', message);
  }
}

/** `ETOOMANYREQUESTS` (429, RFC 6585): too many failed logins, or too many in progress; sets `Retry-After` (s, rounded up). */
export class TooManyRequestsError extends WheelhouseError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super('ETOOMANYREQUESTS', message, { 'Retry-After': String(retryAfterSeconds) });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** `EBADGATEWAY` (502): upstream (a mirror's, or a replica's master) failed or answered unusably. */
export class BadGatewayError extends WheelhouseError {
  constructor(message: string) {
    super('EBADGATEWAY', message);
  }
}

/** `EUNAVAILABLE` (503): something this node needs is not here yet or unreachable; sets `Retry-After` (s). */
export class ServiceUnavailableError extends WheelhouseError {
  constructor(message: string, retryAfterSeconds = 5) {
    super('EUNAVAILABLE', message, { 'Retry-After': String(retryAfterSeconds) });
  }
}

/**
 * `EDIRECTORY` (503): the user directory (LDAP) that must check these credentials cannot be
 * reached; local users, root and login tokens do not depend on it. Sets `Retry-After` (s).
 */
export class DirectoryUnavailableError extends WheelhouseError {
  constructor(message: string, retryAfterSeconds = 5) {
    super('EDIRECTORY', message, { 'Retry-After': String(retryAfterSeconds) });
  }
}

/** 504: a forwarded write got no answer from the master in time (it may still commit). */
export class GatewayTimeoutError extends WheelhouseError {
  constructor(message: string) {
    super('EGATEWAYTIMEOUT', message);
  }
}

/** 508: a forwarded request came back to a node it already passed through (`Via`). */
export class LoopDetectedError extends WheelhouseError {
  constructor(message: string) {
    super('ELOOP', message);
  }
}

/**
 * `EFENCED` (503): this master's term is over — a higher epoch exists (a replica was promoted) —
 * so it refuses every write until it rejoins as a replica (docs/operations.md, "Promotion and
 * rejoin"). The message says `fenced: epoch N superseded by M`.
 */
export class FencedError extends WheelhouseError {
  constructor(message: string) {
    super('EFENCED', message, { 'Retry-After': '5' });
  }
}

/**
 * `EDIVERGED` (409): a replica holds records past the start of a newer master term (it followed
 * an old master beyond the promotion point); it must `rejoin` (docs/operations.md).
 */
export class DivergedError extends WheelhouseError {
  constructor(message: string) {
    super('EDIVERGED', message);
  }
}

/**
 * `ENOTREPLICATED` (503): a write committed on the master, but fewer than the `--sync-replicas`
 * replicas confirmed it durable within `--sync-timeout` (semi-synchronous replication, as
 * PostgreSQL's synchronous standbys). The record stays committed: it may become visible on the
 * replicas later; a retry answers as a repeat does (an identical upload: 200, nothing stored twice).
 * Sets `Retry-After` (s) and carries the committed serial.
 */
export class NotReplicatedError extends WheelhouseError {
  readonly serial: number;
  constructor(message: string, serial: number, retryAfterSeconds = 5) {
    super('ENOTREPLICATED', message, { 'Retry-After': String(retryAfterSeconds), 'X-Devpi-Serial': String(serial) });
    this.serial = serial;
  }
}
