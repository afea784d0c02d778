/**
 * Who may read an index (issue 15): the decision behind every read of a stage or mirror index —
 * simple pages, release files, JSON views, web pages, docs, search hits, push as a source.
 *
 * An index's own rule: its `acl_read` (default `[':ANONYMOUS:']`, everyone, as before read ACLs
 * existed; entries as `acl_upload`: user names, `:AUTHENTICATED:`, `:ANONYMOUS:`, and the
 * directory groups `aclAllows` understands), plus its owner and `root`, who may always read what
 * they manage. Whether a principal is in a list is decided by `aclAllows` (the one ACL matcher).
 *
 * Inheritance: reading an index means reading every index of its resolution order (its pages
 * merge their projects and link their files), so a principal may read an index only when it may
 * read each index of that order. An index inheriting an unreadable one is refused as a whole
 * rather than shown without that base: a page that silently dropped a private base would send a
 * client that forgot its credentials to a same-named project further down the order (a mirror of
 * PyPI) — dependency confusion. devpi-lockdown users know the all-or-nothing form: what is locked
 * answers 401 until credentials are given.
 */
import { aclAllows, type Principal } from '../acl.js';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.js';
import type { IndexConfig } from './records.js';
import { DEFAULT_ACL_READ, getIndex, resolutionOrder } from './indexes.js';
import { keyKind, type KeyKind } from './keys.js';
import { splitStage } from './stage-paths.js';
import type { StateReader } from './state.js';

/** One index's read rule: who is listed (`acl_read` plus the owner and `root`). */
export interface ReadRule {
  /** `user/index` */
  stage: string;
  /** the ACL to match with `aclAllows` */
  acl: readonly string[];
}

/**
 * What reading an index takes, precomputed per index: `open` when every index of its resolution
 * order lets anonymous read (then no request needs authenticating); else the rules to pass, one per
 * restricted index of the order (the open ones left out).
 */
export type ReadRequirement = { open: true } | { open: false; rules: readonly ReadRule[] };

/** The read rule of one index: its `acl_read` (default everyone) plus its owner and `root`. */
export function readRuleOf(stage: string, cfg: IndexConfig): ReadRule {
  const [owner] = splitStage(stage);
  return { stage, acl: [...(cfg.acl_read ?? DEFAULT_ACL_READ), owner, 'root'] };
}

/** What reading `stage` takes (see {@link ReadRequirement}); undefined when the index does not exist. */
export function readRequirement(state: StateReader, stage: string): ReadRequirement | undefined {
  const [u, i] = splitStage(stage);
  if (!getIndex(state, u, i)) return undefined;
  const rules: ReadRule[] = [];
  for (const s of resolutionOrder(state, stage)) {
    const [su, si] = splitStage(s);
    const cfg = getIndex(state, su, si);
    if (!cfg) continue;
    const rule = readRuleOf(s, cfg);
    if (!aclAllows(rule.acl, undefined)) rules.push(rule);
  }
  return rules.length === 0 ? { open: true } : { open: false, rules };
}

/** The first rule `principal` fails, or undefined when it passes them all (may read). */
export function failedReadRule(req: ReadRequirement, principal: Principal): ReadRule | undefined {
  if (req.open) return undefined;
  return req.rules.find((r) => !aclAllows(r.acl, principal));
}

/** True when `principal` may read `stage` (see module doc); false for an index that does not exist. */
export function mayRead(state: StateReader, stage: string, principal: Principal): boolean {
  const req = readRequirement(state, stage);
  return req !== undefined && failedReadRule(req, principal) === undefined;
}

/** The source of {@link ReadAccess}: state plus commit notifications (the changelog, or its memory twin). */
export interface ReadAccessSource extends StateReader {
  onCommit(listener: (record: { changes: ReadonlyArray<{ key: string }> }) => void): () => void;
}

/** Key kinds whose change can change who may read an index. */
const CONFIG_KINDS: ReadonlySet<KeyKind | undefined> = new Set<KeyKind>(['index', 'user']);

/**
 * {@link readRequirement} per index, computed once and kept until a commit changes any index or
 * user config (a base's `acl_read` changes what its heirs need), so a request decides with one map
 * lookup and an open index does no authentication work.
 */
export class ReadAccess {
  private readonly cache = new Map<string, ReadRequirement | undefined>();
  private readonly unsubscribe: () => void;

  constructor(private readonly state: ReadAccessSource) {
    this.unsubscribe = state.onCommit((record) => {
      // index and user records only: releases and files never change who may read
      if (this.cache.size && record.changes.some((c) => CONFIG_KINDS.has(keyKind(c.key)))) this.cache.clear();
    });
  }

  /** What reading `stage` (`user/index`) takes; undefined when no such index exists. */
  requirement(stage: string): ReadRequirement | undefined {
    if (this.cache.has(stage)) return this.cache.get(stage);
    const req = readRequirement(this.state, stage);
    if (this.cache.size >= 100_000) this.cache.clear(); // bounded: names of missing indexes come from clients
    this.cache.set(stage, req);
    return req;
  }

  /** True when `principal` may read `stage`; false when no such index exists. */
  mayRead(stage: string, principal: Principal): boolean {
    const req = this.requirement(stage);
    return req !== undefined && failedReadRule(req, principal) === undefined;
  }

  /** Stops listening to commits. */
  close(): void {
    this.unsubscribe();
  }
}

/**
 * The refusal of a read of `stage` that failed `rule`: UnauthorizedError (401, with
 * `WWW-Authenticate`, so pip and twine retry with credentials) for anonymous, ForbiddenError (403)
 * for an authenticated principal. `who` names the user in the 403 message (the credentials' name).
 */
export function readRefusal(stage: string, rule: ReadRule, principal: Principal, who?: string): UnauthorizedError | ForbiddenError {
  const via = rule.stage === stage ? `index '${stage}'` : `index '${stage}' (it inherits '${rule.stage}')`;
  if (principal === undefined) return new UnauthorizedError(`${via} is read-restricted: credentials of a user in its acl_read are required`);
  return new ForbiddenError(`${who !== undefined ? `user ${who}` : 'this user'} may not read ${via}: not in the acl_read of '${rule.stage}'`);
}

/** Throws {@link readRefusal} unless `principal` may read `stage`; NotFoundError when the index does not exist. */
export function assertMayRead(state: StateReader, stage: string, principal: Principal): void {
  const req = readRequirement(state, stage);
  if (!req) throw new NotFoundError(`index '${stage}' does not exist`);
  const failed = failedReadRule(req, principal);
  if (failed) throw readRefusal(stage, failed, principal, typeof principal === 'string' ? principal : undefined);
}
