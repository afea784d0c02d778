/**
 * `wheelhouse rejoin`: turns a stopped old (fenced) master into a replica of the new master
 * (docs/operations.md, "Promotion and rejoin"). The new master's epoch history says where its term
 * began (the first serial of the first epoch newer than the local one); the local records before
 * that are compared with the new master's, byte for byte, to find the common point. Local records
 * past it — committed by the old master after the new term's history branched off — are exported
 * beside the data directory (`<datadir>.diverged-<epoch>-<time>/`: `records.jsonl`, the release
 * files they name under `files/`, and the whole old store moved to `db/`), never merged or
 * dropped. With divergence the store is re-cloned (the replica starts from an empty one); without,
 * the store is kept and the replica tails on from its head. The changelog is never truncated in place.
 */
import { access, copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { Changelog, FileStore, decodeRecord, lockDataDir } from '@wheelhouse/changelog';
import { blobsNamedBy, replicaTokenSigner } from '@wheelhouse/core';
import { FrameDecoder, MasterClient, currentEpoch, newerTermStart, type EpochRecord } from '@wheelhouse/replication';
import { request } from 'undici';
import { datadirPaths, readSecret } from '../master-app.js';

/** Options of {@link rejoinDatadir}. */
export interface RejoinOptions {
  /** The old master's data directory (stopped: its lock is taken). */
  datadir: string;
  /** The new master's URL. */
  masterUrl: string;
  /** The cluster's secret file (default `<datadir>/secret`): reads the new master's feed. */
  secretFile?: string;
  /** Per request, ms (default 10,000). */
  timeoutMs?: number;
}

/** The outcome of a rejoin. */
export interface RejoinResult {
  /** The local epoch before, and the new master's. */
  localEpoch: number;
  masterEpoch: number;
  /** First serial of the newer term on the new master. */
  termStart: number;
  /** First local serial that the new master does not hold identically (= local head + 1 when none diverged). */
  commonUpTo: number;
  /** Local records exported as diverged. */
  diverged: number;
  /** Serials of the diverged records. */
  divergedSerials: number[];
  /** Export directory, or null when nothing diverged. */
  exportDir: string | null;
  /** Release files copied into the export. */
  exportedFiles: number;
  /** `kept` the store (tails on) or `recloned` (the old store moved into the export). */
  store: 'kept' | 'recloned';
  /** The local head before. */
  head: number;
}

/** A refused rejoin. */
export class RejoinRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RejoinRefusedError';
  }
}

/** The new master's epoch history from its `/+status` (`epochs`). */
async function masterEpochs(url: string, timeoutMs: number): Promise<EpochRecord[]> {
  const res = await request(`${url}/+status`, { headers: { accept: 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const body = (await res.body.json()) as { result?: { role?: string; epochs?: EpochRecord[]; fenced?: unknown } };
  const st = body.result;
  if (res.statusCode !== 200 || st?.role !== 'MASTER') throw new RejoinRefusedError(`${url} is not a master (answered ${res.statusCode}, role ${String(st?.role)})`);
  if (st.fenced) throw new RejoinRefusedError(`${url} is fenced itself: rejoin the master of the newest epoch`);
  return Array.isArray(st.epochs) ? st.epochs : [];
}

/** The new master's records 0..upTo, in order, as bytes (through its feed, with a replica token). */
async function* masterRecords(client: MasterClient, upTo: number, timeoutMs: number): AsyncGenerator<{ serial: number; bytes: Uint8Array }> {
  if (upTo < 0) return;
  const res = await client.streamChangelog(0, timeoutMs);
  res.body.on('error', () => undefined);
  if (res.statusCode !== 200) throw new RejoinRefusedError(`the new master's feed answered ${res.statusCode}: ${(await res.body.text()).slice(0, 300)}`);
  const decoder = new FrameDecoder();
  try {
    for await (const chunk of res.body) {
      for (const payload of decoder.push(chunk as Uint8Array)) {
        if (payload.length === 0) continue;
        const serial = decodeRecord(payload).serial;
        yield { serial, bytes: payload };
        if (serial >= upTo) return;
      }
    }
  } finally {
    res.body.destroy();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/**
 * Rejoins the old master at `opts.datadir` as a replica of `opts.masterUrl` (see module doc).
 * Throws RejoinRefusedError when the master is not in a newer epoch or unusable, DataDirInUseError
 * while the old master runs.
 */
export async function rejoinDatadir(opts: RejoinOptions): Promise<RejoinResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const masterUrl = opts.masterUrl.replace(/\/+$/, '');
  const paths = datadirPaths(opts.datadir);
  const secret = await readSecret(opts.secretFile ?? paths.secret);
  const lock = lockDataDir(opts.datadir);
  try {
    const history = await masterEpochs(masterUrl, timeoutMs);
    const changelog = await Changelog.open({ location: paths.db });
    let result: RejoinResult;
    // no replica id: the new master does not list (or hold GC back for) this one-off reader
    const client = new MasterClient({ masterUrl, replicaTokens: replicaTokenSigner(secret), replicaId: '', replicaUrl: '' });
    try {
      const head = changelog.head;
      const localEpoch = currentEpoch(changelog);
      const masterEpoch = history.length ? history[history.length - 1]!.epoch : 1;
      const termStart = newerTermStart(history, localEpoch);
      if (termStart === undefined) throw new RejoinRefusedError(`the master at ${masterUrl} is in epoch ${masterEpoch}, not newer than this node's epoch ${localEpoch}: nothing to rejoin`);
      // the common point: the first serial below the term start where the records differ
      const limit = Math.min(head, termStart - 1);
      let common = limit + 1;
      for await (const rec of masterRecords(client, limit, timeoutMs)) {
        if (rec.serial > limit) break;
        const local = await changelog.getRecord(rec.serial);
        if (!local || !sameBytes(local.bytes, rec.bytes)) {
          common = rec.serial;
          break;
        }
      }
      const divergedSerials: number[] = [];
      for (let s = common; s <= head; s++) divergedSerials.push(s);
      result = { localEpoch, masterEpoch, termStart, commonUpTo: common, diverged: divergedSerials.length, divergedSerials, exportDir: null, exportedFiles: 0, store: 'kept', head };
      if (divergedSerials.length) {
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const exportDir = join(dirname(opts.datadir), `${basename(opts.datadir)}.diverged-${localEpoch}-${stamp}`);
        result.exportDir = exportDir;
        result.exportedFiles = await exportDiverged(changelog, new FileStore(paths.files), common, exportDir, { masterUrl, localEpoch, masterEpoch, termStart });
      }
    } finally {
      await client.close();
      await changelog.close();
    }
    if (result.exportDir) {
      await rename(paths.db, join(result.exportDir, 'db'));
      result.store = 'recloned';
    }
    await writeFile(join(opts.datadir, 'replica-id'), randomBytes(8).toString('hex') + '\n');
    return result;
  } finally {
    lock.release();
  }
}

/** Writes `records.jsonl` (records common..head) and copies the files they name; returns the count of files copied. */
async function exportDiverged(changelog: Changelog, files: FileStore, from: number, dir: string, about: Record<string, unknown>): Promise<number> {
  await mkdir(join(dir, 'files'), { recursive: true });
  const lines: string[] = [];
  const blobs = new Set<string>();
  for await (const rec of changelog.changesSince(from)) {
    const record = decodeRecord(rec.bytes);
    lines.push(JSON.stringify(record));
    for (const c of record.changes) for (const sha of blobsNamedBy(c.key, c.value)) blobs.add(sha);
  }
  await writeFile(join(dir, 'records.jsonl'), lines.join('\n') + '\n');
  let copied = 0;
  for (const sha of blobs) {
    const path = files.pathFor(sha);
    if (await access(path).then(() => true, () => false)) {
      await copyFile(path, join(dir, 'files', sha));
      copied++;
    }
  }
  await writeFile(join(dir, 'README.txt'), [
    'Records the old master committed that the new master does not hold (wheelhouse rejoin).',
    `about: ${JSON.stringify(about)}`,
    'records.jsonl: one record a line ({serial, at (ms since epoch), changes: [{key, value|null}]}).',
    'files/: the release files those records name, by sha256. db/: the whole old store, unchanged.',
    'Nothing here was merged into the new master: re-upload what is still wanted.',
    '',
  ].join('\n'));
  return copied;
}
