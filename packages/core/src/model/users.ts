/**
 * Users (`user/{name}`), devpi's semantics (§1.4): create, modify, delete, and the public view
 * (never `pwhash`, `uid`, `pwgen`). A new user gets a random `uid`; every change of `pwhash` bumps
 * `pwgen`; login tokens are bound to both (`auth/token-binding.ts`). Password hashing happens before the transaction (it is slow on purpose); these
 * functions receive the finished hash.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { isValidUserOrIndexName } from '../names.js';
import { compileChecker } from '../validation.js';
import { FIELD_LIMITS, assertJsonBytes } from './field-limits.js';
import { isoSeconds, type IndexConfig, type UserRecord } from './records.js';
import { keys, lastSegment } from './keys.js';
import type { StateReader, WriteTx } from './state.js';
import { deleteIndexContent, requireIndex } from './indexes.js';

/** Body of `PUT /{user}`. */
export interface UserCreateBody {
  password?: string;
  pwhash?: string;
  email?: string;
  title?: string;
  description?: string;
  custom_data?: unknown;
}

/** Body of `PATCH /{user}`; `indexes`, `username`, `created`, `modified` are accepted and ignored (devpi). */
export type UserPatchBody = UserCreateBody & { indexes?: unknown; username?: unknown; created?: unknown; modified?: unknown };

const userFields = {
  password: { type: 'string', maxLength: FIELD_LIMITS.password },
  pwhash: { type: 'string', pattern: '^\\$argon2(id|i|d)\\$', maxLength: 512 },
  email: { type: ['string', 'null'], maxLength: FIELD_LIMITS.title },
  title: { type: ['string', 'null'], maxLength: FIELD_LIMITS.title },
  description: { type: ['string', 'null'], maxLength: FIELD_LIMITS.description },
  custom_data: {},
} as const;

const checkCreate = compileChecker<UserCreateBody>(
  { type: 'object', properties: userFields, additionalProperties: false },
  'invalid user config',
);

const checkPatch = compileChecker<UserPatchBody>(
  {
    type: 'object',
    properties: { ...userFields, indexes: {}, username: {}, created: {}, modified: {} },
    additionalProperties: false,
  },
  'Unknown keys in user config or bad values',
);

/**
 * Validates a `PUT /{user}` body: 400 naming unknown keys, bad values and strings over
 * {@link FIELD_LIMITS}; 413 for `custom_data` over {@link FIELD_LIMITS}.customDataBytes as JSON.
 */
export function checkUserCreateBody(data: unknown): UserCreateBody {
  const body = checkCreate(data);
  assertJsonBytes('custom_data', body.custom_data, FIELD_LIMITS.customDataBytes);
  return body;
}

/** Validates a `PATCH /{user}` body (the limits of {@link checkUserCreateBody}). */
export function checkUserPatchBody(data: unknown): UserPatchBody {
  const body = checkPatch(data);
  assertJsonBytes('custom_data', body.custom_data, FIELD_LIMITS.customDataBytes);
  return body;
}

/** The user record, or undefined. */
export function getUser(state: StateReader, name: string): UserRecord | undefined {
  return state.get<UserRecord>(keys.user(name));
}

/** The user record; NotFoundError (404) `user 'x' does not exist`. */
export function requireUser(state: StateReader, name: string): UserRecord {
  const user = getUser(state, name);
  if (!user) throw new NotFoundError(`user '${name}' does not exist`);
  return user;
}

/** All user names, sorted. */
export function listUserNames(state: StateReader): string[] {
  return state.children(keys.users()).map(lastSegment);
}

/** Index names of a user, sorted. */
export function listIndexNames(state: StateReader, user: string): string[] {
  return state.children(keys.indexesOf(user)).map(lastSegment);
}

/**
 * The entry of a user in the `GET /` list: the public view without the fields that may be large
 * (`description`, `custom_data`, and those of each index), so the list stays small however many
 * users there are (the full record is `GET /{user}`).
 */
export function userListEntry(state: StateReader, name: string): Record<string, unknown> {
  const { description: _d, custom_data: _c, indexes, ...rest } = userView(state, name) as Record<string, unknown> & { indexes: Record<string, IndexConfig> };
  const slim: Record<string, unknown> = {};
  for (const [ix, cfg] of Object.entries(indexes)) {
    const { description: _id, custom_data: _ic, ...ixRest } = cfg as unknown as Record<string, unknown>;
    slim[ix] = ixRest;
  }
  return { ...rest, indexes: slim };
}

/** devpi's public userconfig: the record without `pwhash`, plus `indexes: {name: ixconfig}`. */
export function userView(state: StateReader, name: string): Record<string, unknown> {
  const { pwhash: _pwhash, uid: _uid, pwgen: _pwgen, ...pub } = requireUser(state, name);
  const indexes: Record<string, IndexConfig> = {};
  for (const ix of listIndexNames(state, name)) indexes[ix] = state.get<IndexConfig>(keys.index(name, ix))!;
  return { ...pub, indexes };
}

/** Creates a user. 400 invalid name, 409 exists. `pwhash` is already hashed (or absent). */
export function createUser(tx: WriteTx, name: string, fields: Omit<UserCreateBody, 'password'>): UserRecord {
  if (!isValidUserOrIndexName(name) || name.startsWith('+')) throw new BadRequestError(`invalid user name '${name}'`);
  if (getUser(tx, name)) throw new ConflictError(`user '${name}' already exists`);
  const record: UserRecord = { username: name, created: isoSeconds(tx.at), uid: randomUUID() };
  assignProfile(record, fields);
  tx.set(keys.user(name), record);
  return record;
}

/**
 * Changes a user's profile and/or password hash. A falsy value removes the key (devpi). A new
 * (or removed) `pwhash` bumps `pwgen`, revoking every login token issued before. Returns the new record.
 */
export function modifyUser(tx: WriteTx, name: string, fields: Omit<UserCreateBody, 'password'>): UserRecord {
  const before = requireUser(tx, name);
  const record: UserRecord = { ...before, modified: isoSeconds(tx.at) };
  assignProfile(record, fields);
  if (record.pwhash !== before.pwhash) record.pwgen = (before.pwgen ?? 0) + 1;
  tx.set(keys.user(name), record);
  return record;
}

function assignProfile(record: UserRecord, fields: Omit<UserCreateBody, 'password'>): void {
  for (const k of ['pwhash', 'email', 'title', 'description', 'custom_data'] as const) {
    if (!(k in fields)) continue;
    const v = fields[k];
    if (v === null || v === undefined || v === '') delete record[k];
    else (record as unknown as Record<string, unknown>)[k] = v;
  }
}

/** Deletes a user and all its indexes. 403 for `root` or when an index is non-volatile; 404 if missing. */
export function deleteUser(tx: WriteTx, name: string): void {
  requireUser(tx, name);
  if (name === 'root') throw new ForbiddenError("user 'root' cannot be deleted");
  const indexes = listIndexNames(tx, name);
  for (const ix of indexes) {
    if (!requireIndex(tx, name, ix).volatile) {
      throw new ForbiddenError(`user '${name}' has non-volatile index '${name}/${ix}' and cannot be deleted`);
    }
  }
  for (const ix of indexes) {
    deleteIndexContent(tx, `${name}/${ix}`);
    tx.delete(keys.index(name, ix));
  }
  tx.delete(keys.user(name));
}
