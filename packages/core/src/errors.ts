/**
 * Typed errors of the index model. Each carries the HTTP status it maps to and a stable `code`;
 * the one terminal error handler (`http/error-handler.ts`) turns them into devpi's
 * `{"message": …}` JSON envelope. Model code throws these and never touches HTTP objects.
 */
export class WheelhouseError extends Error {
  /** HTTP status code this error maps to (4xx/5xx). */
  readonly status: number;
  /** Stable machine-readable code, e.g. `ENOTFOUND`. */
  readonly code: string;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** 400: the request is malformed or a value is invalid. */
export class BadRequestError extends WheelhouseError {
  constructor(message: string) {
    super(400, 'EBADREQUEST', message);
  }
}

/** 401: credentials are required (or were wrong). Carries `WWW-Authenticate: Basic realm="pypi"` as devpi does. */
export class UnauthorizedError extends WheelhouseError {
  constructor(message: string) {
    super(401, 'EUNAUTHORIZED', message, { 'WWW-Authenticate': 'Basic realm="pypi"' });
  }
}

/** 403: authenticated (or anonymous) principal lacks the permission. */
export class ForbiddenError extends WheelhouseError {
  constructor(message: string) {
    super(403, 'EFORBIDDEN', message);
  }
}

/** 404: no such user, index, project, version or file. */
export class NotFoundError extends WheelhouseError {
  constructor(message: string) {
    super(404, 'ENOTFOUND', message);
  }
}

/** 409: conflicts with existing state (existing user/index, file in a non-volatile index). */
export class ConflictError extends WheelhouseError {
  constructor(message: string) {
    super(409, 'ECONFLICT', message);
  }
}

/** 413: body larger than the configured limit. */
export class PayloadTooLargeError extends WheelhouseError {
  constructor(message: string) {
    super(413, 'ETOOLARGE', message);
  }
}

/** 415: the endpoint needs another media type (e.g. JSON API without `Accept: application/json`). */
export class UnsupportedMediaTypeError extends WheelhouseError {
  constructor(message: string) {
    super(415, 'EMEDIATYPE', message);
  }
}

/** 503: a dependency (e.g. the master, for a replica) is unavailable; sets `Retry-After` (s). */
export class ServiceUnavailableError extends WheelhouseError {
  constructor(message: string, retryAfterSeconds = 5) {
    super(503, 'EUNAVAILABLE', message, { 'Retry-After': String(retryAfterSeconds) });
  }
}
