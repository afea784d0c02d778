/**
 * Stage indexes (`index/{user}/{index}`): devpi's config keys and their normalisation (§3.1), the
 * two PATCH forms (JSON object, and devpi-client's `key=value` / `key+=value` / `key-=value` list,
 * §1.5), inheritance over `bases` (the resolution order) and deletion of everything an index holds.
 */
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { normalizeAclEntry } from '../acl.js';
import { isValidUserOrIndexName, normalizeProjectName } from '../names.js';
import { compileChecker } from '../validation.js';
import { FIELD_LIMITS, assertJsonBytes, assertMaxLength } from './field-limits.js';
import { RETENTION_SCHEMA, type RetentionPolicy } from '../gc/retention.js';
import { ALLOWED_VERSIONS_SCHEMA, REQUIRED_FILES_SCHEMA, policyList, type RequiredFileKind } from './release-policy.js';
import type { VersionKind } from '../versions.js';
import type { IndexConfig, MirrorConfig, ReleaseRecord, StageConfig } from './records.js';
import { keys, lastSegment } from './keys.js';
import { parseStage, splitStage } from './stage-paths.js';
import type { StateReader, WriteTx } from './state.js';

const LIST_KEYS = ['bases', 'acl_upload', 'acl_toxresult_upload', 'acl_read', 'mirror_whitelist'] as const;
type ListKey = (typeof LIST_KEYS)[number];
/** List keys a mirror index has too (the others are a stage's). */
const MIRROR_LIST_KEYS: readonly ListKey[] = ['acl_read'];
/** `acl_read` when an index does not set it: everyone may read, as before read ACLs existed. */
export const DEFAULT_ACL_READ: readonly string[] = [':ANONYMOUS:'];
const stringOrList = { type: ['array', 'string'], items: { type: 'string' } } as const;

/** Index config as a client may send it (strings accepted where devpi accepts them). */
export interface IndexConfigInput {
  type?: string;
  bases?: string[] | string;
  volatile?: boolean | string;
  acl_upload?: string[] | string;
  acl_toxresult_upload?: string[] | string;
  acl_read?: string[] | string;
  mirror_whitelist?: string[] | string;
  mirror_whitelist_inheritance?: 'intersection' | 'union';
  title?: string;
  description?: string;
  custom_data?: unknown;
  projects?: unknown;
  mirror_url?: string;
  mirror_cache_expiry?: number | string;
  mirror_web_url_fmt?: string;
  retention?: RetentionPolicy;
  /** release policy (model/release-policy.ts): a list or devpi's comma-separated string */
  allowed_versions?: VersionKind[] | string;
  /** release policy (model/release-policy.ts): a list or devpi's comma-separated string */
  required_files?: RequiredFileKind[] | string;
}

/** Validates a JSON-object index config (PUT, or PATCH object form); 400 names unknown keys and bad values. */
export const checkIndexConfigInput = compileChecker<IndexConfigInput>(
  {
    type: 'object',
    properties: {
      type: { type: 'string' },
      bases: stringOrList,
      volatile: { type: ['boolean', 'string'] },
      acl_upload: stringOrList,
      acl_toxresult_upload: stringOrList,
      acl_read: stringOrList,
      mirror_whitelist: stringOrList,
      mirror_whitelist_inheritance: { enum: ['intersection', 'union'] },
      title: { type: 'string' },
      description: { type: 'string' },
      custom_data: {},
      projects: {},
      mirror_url: { type: 'string', pattern: '^https?://' },
      mirror_cache_expiry: { type: ['integer', 'string'] },
      mirror_web_url_fmt: { type: 'string' },
      retention: RETENTION_SCHEMA,
      allowed_versions: ALLOWED_VERSIONS_SCHEMA,
      required_files: REQUIRED_FILES_SCHEMA,
    },
    additionalProperties: false,
  },
  'invalid index config',
);

/** Keys only a stage has, and keys only a mirror has. */
const STAGE_ONLY = ['bases', 'acl_upload', 'acl_toxresult_upload', 'mirror_whitelist', 'mirror_whitelist_inheritance', 'retention', 'allowed_versions', 'required_files'] as const;
/** The release policy keys (lists, model/release-policy.ts). */
const POLICY_KEYS = ['allowed_versions', 'required_files'] as const;
const MIRROR_ONLY = ['mirror_url', 'mirror_cache_expiry', 'mirror_web_url_fmt'] as const;

/** The bases of an index (a mirror has none). */
function basesOf(cfg: IndexConfig | undefined): readonly string[] {
  return cfg?.type === 'stage' ? cfg.bases : [];
}

/** The stage config; 404 when missing, 400 when the index is a mirror (`what` says what was tried). */
export function requireStage(state: StateReader, user: string, index: string, what = 'change'): StageConfig {
  const cfg = requireIndex(state, user, index);
  if (cfg.type !== 'stage') throw new BadRequestError(`${user}/${index} is a mirror index: cannot ${what} it`);
  return cfg;
}

/** Validates devpi-client's PATCH list form: an array of `key=value`, `key+=value`, `key-=value` strings. */
export const checkIndexConfigOps = compileChecker<string[]>(
  { type: 'array', items: { type: 'string', pattern: '^[a-z_]+(\\+=|-=|=)' } },
  'invalid index modification list (expected strings "key=value", "key+=value" or "key-=value")',
);

/** The index config, or undefined. */
export function getIndex(state: StateReader, user: string, index: string): IndexConfig | undefined {
  return state.get<IndexConfig>(keys.index(user, index));
}

/** The index config; NotFoundError `index 'u/i' does not exist`. */
export function requireIndex(state: StateReader, user: string, index: string): IndexConfig {
  const ix = getIndex(state, user, index);
  if (!ix) throw new NotFoundError(`index '${user}/${index}' does not exist`);
  return ix;
}

/** Normalised project names of one stage (its own, not inherited), sorted. */
export function stageProjectNames(state: StateReader, stage: string): string[] {
  return state.children(keys.projectsOf(stage)).map(lastSegment);
}

/**
 * The resolution order of `stage`: the stage itself, then each base's resolution order in listed
 * order, depth-first, each index once; missing bases are skipped. Mirror indexes come last, in the
 * order first met (as devpi does): every private stage is consulted before any mirror. Entries
 * are `user/index`.
 */
export function resolutionOrder(state: StateReader, stage: string): string[] {
  const out: string[] = [];
  const mirrors: string[] = [];
  const seen = new Set<string>();
  const visit = (s: string): void => {
    if (seen.has(s)) return;
    seen.add(s);
    const [u, i] = splitStage(s);
    const cfg = getIndex(state, u, i);
    if (!cfg) return;
    if (cfg.type === 'mirror') {
      mirrors.push(s);
      return;
    }
    out.push(s);
    for (const b of cfg.bases) visit(b);
  };
  visit(stage);
  return [...out, ...mirrors];
}

function toBool(v: boolean | string, key: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === 'yes') return true;
  if (s === 'false' || s === 'no') return false;
  throw new BadRequestError(`invalid index config: ${key} must be true or false, not '${v}'`);
}

function toList(v: string[] | string): string[] {
  const items = typeof v === 'string' ? v.split(',') : v;
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

function normalizeList(key: ListKey, items: string[], state: StateReader, self: string): string[] {
  let out: string[];
  switch (key) {
    case 'bases':
      out = items.map((b) => {
        const spec = b.replace(/^\//, '').replace(/\/$/, '');
        const parts = parseStage(spec);
        if (!parts) throw new BadRequestError(`invalid base index spec '${b}'`);
        if (!getIndex(state, ...parts)) throw new BadRequestError(`base index '${spec}' does not exist`);
        if (spec === self) throw new BadRequestError(`index '${self}' cannot be its own base`);
        return spec;
      });
      break;
    case 'mirror_whitelist':
      out = items.map((p) => (p === '*' ? '*' : normalizeProjectName(p)));
      break;
    default:
      out = items.map(normalizeAclEntry);
  }
  return [...new Set(out)];
}

/**
 * Checks {@link FIELD_LIMITS} on index input (PUT, PATCH object or list form): 400 for a `title`,
 * `description`, `mirror_url` or `mirror_web_url_fmt` too long or a list key with too many entries,
 * 413 for `custom_data` too large as JSON.
 */
export function checkIndexInputLimits(input: IndexConfigInput): void {
  for (const [key, limit] of [['title', FIELD_LIMITS.title], ['description', FIELD_LIMITS.description], ['mirror_url', 2048], ['mirror_web_url_fmt', 2048]] as const) {
    const v = input[key];
    if (typeof v === 'string') assertMaxLength(key, v, limit);
  }
  for (const key of LIST_KEYS) {
    const v = input[key];
    const n = v === undefined ? 0 : typeof v === 'string' ? v.split(',').length : v.length;
    if (n > FIELD_LIMITS.indexListEntries) throw new BadRequestError(`"${key}" has ${n} entries; the limit is ${FIELD_LIMITS.indexListEntries}`);
    if (Array.isArray(v)) v.forEach((item) => assertMaxLength(key, item, 256));
    else if (typeof v === 'string') assertMaxLength(key, v, 256 * FIELD_LIMITS.indexListEntries);
  }
  assertJsonBytes('custom_data', input.custom_data, FIELD_LIMITS.customDataBytes);
}

/** Applies validated input to a config; string forms are coerced; throws 400 on a bad value. */
function applyInput(cfg: IndexConfig, input: IndexConfigInput, state: StateReader, self: string): void {
  checkIndexInputLimits(input);
  const misplaced = (cfg.type === 'stage' ? MIRROR_ONLY : STAGE_ONLY).filter((k) => input[k] !== undefined);
  if (misplaced.length) throw new BadRequestError(`invalid index config: ${misplaced.map((k) => `'${k}'`).join(', ')} not allowed for ${cfg.type} indexes`);
  if (cfg.type === 'mirror') {
    applyMirrorInput(cfg, input, state, self);
    return;
  }
  for (const key of LIST_KEYS) {
    const v = input[key];
    if (v !== undefined) cfg[key] = normalizeList(key, toList(v), state, self);
  }
  if (input.volatile !== undefined) cfg.volatile = toBool(input.volatile, 'volatile');
  if (input.mirror_whitelist_inheritance !== undefined) cfg.mirror_whitelist_inheritance = input.mirror_whitelist_inheritance;
  if (input.retention !== undefined) cfg.retention = { ...input.retention };
  if (input.allowed_versions !== undefined) {
    const kinds = policyList(input.allowed_versions);
    if (!kinds.length) throw new BadRequestError('invalid index config: allowed_versions must list at least one kind (final, pre, post, dev, local); to accept every version remove the key (allowed_versions-=)');
    cfg.allowed_versions = kinds;
  }
  if (input.required_files !== undefined) cfg.required_files = policyList(input.required_files);
  for (const key of ['title', 'description', 'custom_data'] as const) {
    if (input[key] !== undefined) (cfg as unknown as Record<string, unknown>)[key] = input[key];
  }
}

function applyMirrorInput(cfg: MirrorConfig, input: IndexConfigInput, state: StateReader, self: string): void {
  if (input.mirror_url !== undefined) cfg.mirror_url = input.mirror_url; // as given, as devpi stores it
  if (input.mirror_cache_expiry !== undefined) {
    const n = Number(input.mirror_cache_expiry);
    if (!Number.isInteger(n) || n < 0) throw new BadRequestError(`invalid index config: mirror_cache_expiry must be whole seconds >= 0, not '${String(input.mirror_cache_expiry)}'`);
    cfg.mirror_cache_expiry = n;
  }
  if (input.mirror_web_url_fmt !== undefined) cfg.mirror_web_url_fmt = input.mirror_web_url_fmt;
  if (input.acl_read !== undefined) cfg.acl_read = normalizeList('acl_read', toList(input.acl_read), state, self);
  if (input.volatile !== undefined) cfg.volatile = toBool(input.volatile, 'volatile');
  for (const key of ['title', 'description', 'custom_data'] as const) {
    if (input[key] !== undefined) (cfg as unknown as Record<string, unknown>)[key] = input[key];
  }
}

/** Defaults of a new mirror index (devpi's, PyPI upstream; `mirror_cache_expiry` stays implicit, as in devpi). */
const MIRROR_DEFAULTS: MirrorConfig = {
  type: 'mirror',
  volatile: true,
  mirror_url: 'https://pypi.org/simple/',
};

/** Seconds a mirror's cached page counts as fresh when its config does not say (devpi's `--mirror-cache-expiry` default). */
export const DEFAULT_MIRROR_CACHE_EXPIRY_SECONDS = 1800;

/** A mirror's cache expiry, seconds: its `mirror_cache_expiry`, else {@link DEFAULT_MIRROR_CACHE_EXPIRY_SECONDS}. */
export function mirrorCacheExpiry(cfg: MirrorConfig): number {
  return cfg.mirror_cache_expiry ?? DEFAULT_MIRROR_CACHE_EXPIRY_SECONDS;
}

/** A mirror's upstream simple index URL with one trailing slash (project pages are `{base}{project}/`). */
export function mirrorBaseUrl(cfg: MirrorConfig): string {
  return cfg.mirror_url.endsWith('/') ? cfg.mirror_url : `${cfg.mirror_url}/`;
}

/** Refuses a config whose bases lead back to the index itself (400 naming the cycle). */
function assertNoCycle(tx: WriteTx, self: string, bases: readonly string[]): void {
  const path: string[] = [self];
  const walk = (s: string, seen: Set<string>): void => {
    const [u, i] = splitStage(s);
    const b = s === self ? bases : basesOf(getIndex(tx, u, i));
    for (const base of b) {
      if (base === self) throw new BadRequestError(`bases would create a cycle: ${[...path, self].join(' -> ')}`);
      if (seen.has(base)) continue;
      seen.add(base);
      path.push(base);
      walk(base, seen);
      path.pop();
    }
  };
  walk(self, new Set());
}

/** Creates a stage (default) or mirror index. 404 unknown user, 400 invalid name/config, 409 exists. Returns the config. */
export function createIndex(tx: WriteTx, user: string, index: string, input: IndexConfigInput): IndexConfig {
  if (!tx.get(keys.user(user))) throw new NotFoundError(`user '${user}' does not exist`);
  if (!isValidUserOrIndexName(index) || index.startsWith('+')) throw new BadRequestError(`invalid index name '${index}'`);
  const self = `${user}/${index}`;
  if (getIndex(tx, user, index)) throw new ConflictError(`index '${self}' exists`);
  const type = input.type ?? 'stage';
  if (type !== 'stage' && type !== 'mirror') throw new BadRequestError(`unknown index type '${type}' (supported: stage, mirror)`);
  const cfg: IndexConfig =
    type === 'mirror'
      ? { ...MIRROR_DEFAULTS }
      : {
          type: 'stage',
          bases: [],
          volatile: true,
          acl_upload: [user],
          acl_toxresult_upload: [':ANONYMOUS:'],
          mirror_whitelist: [],
          mirror_whitelist_inheritance: 'intersection',
        };
  applyInput(cfg, input, tx, self);
  tx.set(keys.index(user, index), cfg);
  return cfg;
}

/**
 * Modifies an index with a JSON object (partial update; `projects` ignored; `type` cannot change)
 * or devpi-client's operation list (`retention=` takes the policy as a JSON object). `errorOnNoop`: 400 when nothing would change. Returns the new config.
 */
export function modifyIndex(
  tx: WriteTx,
  user: string,
  index: string,
  change: IndexConfigInput | string[],
  errorOnNoop = false,
): IndexConfig {
  const self = `${user}/${index}`;
  const old = requireIndex(tx, user, index);
  const cfg = structuredClone(old) as IndexConfig;
  if (Array.isArray(change)) {
    applyOps(cfg, change, tx, self);
  } else {
    if (change.type !== undefined && change.type !== old.type) throw new BadRequestError("the 'type' of an index can't be changed");
    applyInput(cfg, change, tx, self);
  }
  assertNoCycle(tx, self, basesOf(cfg));
  if (JSON.stringify(cfg) === JSON.stringify(old)) {
    if (errorOnNoop) throw new BadRequestError('The requested modifications resulted in no changes');
    return old;
  }
  tx.set(keys.index(user, index), cfg);
  return cfg;
}

const DEFAULT_KEYS = new Set(['type', 'bases', 'volatile', 'acl_upload', 'acl_toxresult_upload', 'acl_read', 'mirror_whitelist', 'mirror_whitelist_inheritance']);

function applyOps(cfg: IndexConfig, ops: string[], state: StateReader, self: string): void {
  const rec = cfg as unknown as Record<string, unknown>;
  for (const op of ops) {
    const m = /^([a-z_]+)(\+=|-=|=)(.*)$/s.exec(op);
    if (!m) throw new BadRequestError(`invalid index modification '${op}'`);
    const [, key, kind, value] = m as unknown as [string, string, string, string];
    const isPolicy = (POLICY_KEYS as readonly string[]).includes(key);
    const isList = (LIST_KEYS as readonly string[]).includes(key);
    const known = isList || isPolicy || ['volatile', 'mirror_whitelist_inheritance', 'title', 'description', 'custom_data', 'type', 'retention', ...MIRROR_ONLY].includes(key);
    if (!known) throw new BadRequestError(`invalid index config: unknown key '${key}'`);
    if (kind === '=') {
      if (key === 'type') {
        if (value !== cfg.type) throw new BadRequestError("the 'type' of an index can't be changed");
        continue;
      }
      const input = checkIndexConfigInput({ [key]: key === 'retention' ? parseRetentionOp(value) : value });
      applyInput(cfg, input, state, self);
      continue;
    }
    if (kind === '-=' && value === '') {
      if (DEFAULT_KEYS.has(key)) throw new BadRequestError("Default values can't be removed.");
      delete rec[key];
      continue;
    }
    if (isPolicy) {
      applyPolicyOp(cfg, key as (typeof POLICY_KEYS)[number], kind as '+=' | '-=', value, state, self);
      continue;
    }
    if (!isList) throw new BadRequestError(`'${key}' is not a list: '${kind}' only works on ${[...LIST_KEYS, ...POLICY_KEYS].join(', ')}`);
    const listKey = key as ListKey;
    if (cfg.type !== 'stage' && !MIRROR_LIST_KEYS.includes(listKey)) throw new BadRequestError(`invalid index config: '${key}' not allowed for mirror indexes`);
    const [item] = normalizeList(listKey, [value], state, self) as [string];
    const holder = cfg as unknown as Record<ListKey, string[] | undefined>;
    editList((holder[listKey] ??= listKey === 'acl_read' ? [...DEFAULT_ACL_READ] : []), kind as '+=' | '-=', item, key, value);
  }
}

/** devpi's `KEY+=ITEM` (added once) / `KEY-=ITEM` (400 when absent) on `list`, in place. */
function editList(list: string[], kind: '+=' | '-=', item: string, key: string, value: string): void {
  if (kind === '+=') {
    if (!list.includes(item)) list.push(item);
    return;
  }
  const at = list.indexOf(item);
  if (at < 0) throw new BadRequestError(`The value '${value}' is not in '${key}'`);
  list.splice(at, 1);
}

/** `allowed_versions+=pre`, `required_files-=wheel` (devpi-client's list form on a release policy key). */
function applyPolicyOp(cfg: IndexConfig, key: (typeof POLICY_KEYS)[number], kind: '+=' | '-=', value: string, state: StateReader, self: string): void {
  const input = checkIndexConfigInput({ [key]: [value.trim()] });
  if (cfg.type !== 'stage') throw new BadRequestError(`invalid index config: '${key}' not allowed for mirror indexes`);
  const list: string[] = [...(cfg[key] ?? [])];
  editList(list, kind, value.trim(), key, value);
  applyInput(cfg, { [key]: list } as typeof input, state, self);
}

/**
 * The value of a `retention=VALUE` list-form operation: the policy as a JSON object, the same as the
 * object form's `retention` (`retention={"keep_dev_releases": 10}`; `retention-=` drops it).
 * BadRequestError when VALUE is not a JSON object; the schema check follows in the caller.
 */
function parseRetentionOp(value: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new BadRequestError(`invalid index config: retention=${value.slice(0, 100)} is not JSON (${(err as Error).message}); expected an object such as retention={"keep_dev_releases": 10}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BadRequestError(`invalid index config: retention must be a JSON object such as {"keep_dev_releases": 10}, not ${value.slice(0, 100)}`);
  }
  return parsed;
}

/** Deletes an index and all it holds. 403 non-volatile (devpi has no force here), 404 missing. */
export function deleteIndex(tx: WriteTx, user: string, index: string): void {
  const cfg = requireIndex(tx, user, index);
  if (!cfg.volatile) throw new ForbiddenError(`index ${user}/${index} non-volatile, cannot delete`);
  deleteIndexContent(tx, `${user}/${index}`);
  tx.delete(keys.index(user, index));
}

/** Deletes every project of an index (releases, file entries, a mirror's cache). Blobs stay in the store. */
export function deleteIndexContent(tx: WriteTx, stage: string): void {
  for (const project of stageProjectNames(tx, stage)) deleteProjectContent(tx, stage, project);
  for (const key of tx.children(keys.mirrorProjectsOf(stage))) tx.delete(key);
  if (tx.get(keys.mirrorList(stage))) tx.delete(keys.mirrorList(stage));
}

/** Deletes a project of one stage: its releases, their file entries, and the project record. */
export function deleteProjectContent(tx: WriteTx, stage: string, project: string): void {
  for (const key of tx.children(keys.releasesOf(stage, project))) deleteReleaseKey(tx, key);
  tx.delete(keys.project(stage, project));
}

/** Deletes one release record and the file entries of its links. */
export function deleteReleaseKey(tx: WriteTx, releaseKey: string): void {
  const rel = tx.get<ReleaseRecord>(releaseKey);
  for (const link of rel?.links ?? []) tx.delete(keys.file(link.entrypath));
  tx.delete(releaseKey);
}

/** devpi's `indexconfig` result: the config plus `projects` (own, sorted) unless `noProjects`. */
export function indexView(state: StateReader, user: string, index: string, noProjects = false): Record<string, unknown> {
  const cfg = requireIndex(state, user, index);
  return noProjects ? { ...cfg } : { ...cfg, projects: stageProjectNames(state, `${user}/${index}`) };
}
