/**
 * Per-field limits of user, index and release metadata, so that no client — anonymous user
 * creation included — can make a node hold or serve unbounded records. devpi has none of these (it
 * bounds only the whole request body, `--max-request-body-size`, 1 GiB); Warehouse (PyPI) limits
 * `summary` to 512 characters. Lengths are in UTF-16 code units (JavaScript string length) unless
 * they say bytes. Documented, with the reasons, in docs/operations.md ("Input limits").
 */
import { BadRequestError, PayloadTooLargeError } from '../errors.js';

/** The limits (see module doc). */
export const FIELD_LIMITS = {
  /** A project name (PEP 508 name; PyPI has no fixed limit, real names stay far below). */
  projectName: 128,
  /** A version string (PEP 440; the longest on PyPI are about 60 characters). */
  version: 64,
  /** `summary` (Warehouse's limit). */
  summary: 512,
  /** `description` of a release (the long description / README), bytes of UTF-8. */
  releaseDescriptionBytes: 1024 * 1024,
  /** Any other scalar release metadata field (author, license, home_page, …), characters. */
  releaseField: 64 * 1024,
  /** Entries of one list metadata field (classifiers, requires_dist, …). */
  releaseListEntries: 1000,
  /** `title` and `email` of a user, `title` of an index, characters. */
  title: 256,
  /** `description` of a user or index, characters. */
  description: 64 * 1024,
  /** `custom_data` of a user or index as JSON, bytes. */
  customDataBytes: 64 * 1024,
  /** A password, characters (argon2 takes any length; this bounds hashing work). */
  password: 1024,
  /** Entries of an index list key (`bases`, `acl_upload`, `acl_toxresult_upload`, `acl_read`, `mirror_whitelist`). */
  indexListEntries: 1000,
  /** One test result (tox JSON report), bytes of JSON. */
  toxResultBytes: 1024 * 1024,
  /** Test results attached to one release file. */
  toxResultsPerFile: 100,
  /** Nesting depth of any JSON body (objects and arrays). */
  jsonDepth: 64,
} as const;

/** UTF-8 length of `s`, bytes. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Throws BadRequestError (400) `"<field>" is N characters long; the limit is L` when `value` is longer than `limit`. */
export function assertMaxLength(field: string, value: string, limit: number): void {
  if (value.length > limit) throw new BadRequestError(`"${field}" is ${value.length} characters long; the limit is ${limit}`);
}

/** Throws PayloadTooLargeError (413) `"<field>" is N bytes; the limit is L bytes` when `bytes` exceeds `limit`. */
export function assertMaxBytes(field: string, bytes: number, limit: number): void {
  if (bytes > limit) throw new PayloadTooLargeError(`"${field}" is ${bytes} bytes; the limit is ${limit} bytes`);
}

/**
 * Nesting depth of a parsed JSON value (a scalar is 0, `[]` is 1), computed without recursion so a
 * deeply nested value cannot overflow the stack. Stops counting once past `stopAt`.
 */
export function jsonDepth(value: unknown, stopAt = Number.MAX_SAFE_INTEGER): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max > stopAt) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) stack.push([child, depth]);
  }
  return max;
}

/** Throws BadRequestError (400) when `value` nests deeper than {@link FIELD_LIMITS}.jsonDepth (or `limit`). */
export function assertJsonDepth(what: string, value: unknown, limit: number = FIELD_LIMITS.jsonDepth): void {
  if (jsonDepth(value, limit) > limit) throw new BadRequestError(`${what} nests deeper than ${limit} levels of objects and arrays`);
}

/** Throws PayloadTooLargeError (413) when `value` as JSON exceeds `limit` bytes (after the depth check). */
export function assertJsonBytes(field: string, value: unknown, limit: number): void {
  if (value === undefined) return;
  assertJsonDepth(`"${field}"`, value);
  assertMaxBytes(field, utf8Bytes(JSON.stringify(value)), limit);
}
