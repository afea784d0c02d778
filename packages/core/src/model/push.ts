/**
 * Push of a release from one index to another on the same server (devpi §1.11, "internal push"):
 * metadata, release files (keeping their upload log minus `overwrite` entries, plus a `push` entry),
 * their test results and the doc zip, in one transaction. External push (to another server's upload
 * URL) is not supported.
 */
import { BadRequestError, NotFoundError, UnauthorizedError } from '../errors.js';
import { aclAllows, type Principal } from '../acl.js';
import { normalizeProjectName } from '../names.js';
import { compileChecker } from '../validation.js';
import { logTime, type LogEntry, type ReleaseRecord } from './records.js';
import { keys } from './keys.js';
import { entrypathFor, parseStage, siblingEntrypath } from './stage-paths.js';
import { requireStage } from './indexes.js';
import { assertRequiredFiles, assertVersionAllowed } from './release-policy.js';
import { assertMayRead } from './read-access.js';
import { attachFile, mergedReleases } from './releases.js';
import type { WriteTx } from './state.js';

/** Body of a push request (POST or PUSH to `/{user}/{index}`). */
export interface PushBody {
  name: string;
  version: string;
  targetindex?: string;
  no_docs?: boolean;
  only_docs?: boolean;
  posturl?: string;
  username?: string;
  password?: string;
  register_project?: boolean;
}

/** Validates a push body; 400 naming missing or unknown keys. */
export const checkPushBody = compileChecker<PushBody>(
  {
    type: 'object',
    required: ['name', 'version'],
    properties: {
      name: { type: 'string', minLength: 1 },
      version: { type: 'string', minLength: 1 },
      targetindex: { type: 'string' },
      no_docs: { type: 'boolean' },
      only_docs: { type: 'boolean' },
      posturl: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      register_project: { type: 'boolean' },
    },
    additionalProperties: false,
  },
  'invalid push request',
);

/** devpi's `actionlog` entries: `[status, action, …details]`. */
export type ActionLogEntry = Array<string | number>;

/**
 * Copies `name==version` as seen from `source` (first stage of its resolution order that has the
 * version) into `body.targetindex`. 400 bad request, 401 no upload right on the target (or, anonymous,
 * no read right on the source: 403 for a user; `read-access.ts`), 404 unknown
 * version or target, 409 file exists with other content in a non-volatile target or the target's
 * release policy refuses the release (`ReleasePolicyError`, model/release-policy.ts).
 */
export function pushRelease(tx: WriteTx, source: string, body: PushBody, who: Principal): ActionLogEntry[] {
  if (body.posturl !== undefined) throw new BadRequestError('push to an external index (posturl) is not supported; push to an index of this server with "targetindex"');
  if (body.no_docs && body.only_docs) throw new BadRequestError("can't use 'no_docs' and 'only_docs' together");
  const target = body.targetindex;
  const targetParts = target ? parseStage(target) : undefined;
  if (!target || !targetParts) throw new BadRequestError(`invalid targetindex '${target ?? ''}': expected "user/index"`);
  const [tu, ti] = targetParts;
  const targetCfg = requireStage(tx, tu, ti, 'push to');
  if (!aclAllows(targetCfg.acl_upload, who)) throw new UnauthorizedError(`user '${who?.name ?? ''}' cannot upload to '${target}'`);
  // pushing copies what the source shows: reading it takes its read permission (read-access.ts)
  assertMayRead(tx, source, who);
  const project = normalizeProjectName(body.name);
  const found = mergedReleases(tx, source, project).find((r) => r.version === body.version);
  if (!found) throw new NotFoundError(`no release/files found for ${body.name} ${body.version}`);
  const record: ReleaseRecord = found.record;
  const metadata = record.metadata;
  assertVersionAllowed(targetCfg, target, metadata.name, metadata.version);
  assertRequiredFiles(targetCfg, target, record);
  const log: ActionLogEntry[] = [[200, 'register', metadata.name, metadata.version, '->', target]];
  const pushEntry: LogEntry = { what: 'push', who: who?.name ?? null, when: logTime(tx.at), src: found.stage, dst: target };
  const history = (l: { log: LogEntry[] }): LogEntry[] => [...l.log.filter((e) => e.what !== 'overwrite'), pushEntry];
  // register even when only docs are pushed, so the version exists in the target
  tx.set(keys.project(target, project), tx.get(keys.project(target, project)) ?? { name: project, display_name: metadata.name, created: tx.at });
  if (!tx.get(keys.release(target, project, metadata.version))) tx.set(keys.release(target, project, metadata.version), { metadata, links: [] });
  if (!body.only_docs) {
    for (const link of record.links.filter((l) => l.rel === 'releasefile')) {
      const file = { filename: link.filename, sha256: link.sha256, size: link.size, ...(link.metadata_sha256 ? { metadataSha256: link.metadata_sha256 } : {}) };
      attachFile(tx, target, metadata, file, 'releasefile', who?.name ?? null, history(link));
      const newFor = entrypathFor(target, link.sha256, link.filename);
      log.push([200, 'store_releasefile', newFor]);
      for (const tox of record.links.filter((l) => l.rel === 'toxresult' && l.for_entrypath === link.entrypath)) {
        copyToxResult(tx, target, project, metadata.version, newFor, tox, history(tox));
        log.push([200, 'store_toxresult', siblingEntrypath(newFor, tox.filename)]);
      }
    }
  }
  if (!body.no_docs) {
    const doc = record.links.find((l) => l.rel === 'doczip');
    if (doc) {
      attachFile(tx, target, metadata, { filename: doc.filename, sha256: doc.sha256, size: doc.size }, 'doczip', who?.name ?? null, history(doc));
      log.push([200, 'store_doczip', metadata.name, metadata.version, '->', target]);
    }
  }
  return log;
}

function copyToxResult(
  tx: WriteTx,
  target: string,
  project: string,
  version: string,
  forEntrypath: string,
  tox: ReleaseRecord['links'][number],
  log: LogEntry[],
): void {
  const key = keys.release(target, project, version);
  const record = structuredClone(tx.get<ReleaseRecord>(key)!) as ReleaseRecord;
  const entrypath = siblingEntrypath(forEntrypath, tox.filename);
  if (record.links.some((l) => l.entrypath === entrypath)) return;
  record.links.push({ ...tox, entrypath, for_entrypath: forEntrypath, log });
  tx.set(key, record);
  tx.set(keys.file(entrypath), { sha256: tox.sha256, size: tox.size, project, version, rel: 'toxresult', modified: tox.uploaded });
}
