/**
 * `wheelhouse backup` / `wheelhouse restore`: a physical copy of a node's store — its changelog
 * records (as wire frames), UUID, every stored file and the secret file — taken without stopping the
 * node (through its feed, like `export`, when it runs), and turned back into a data directory with
 * the same UUID and serials, so replicas of a restored master carry on.
 *
 * Layout: `backup.json` (written last), `changelog.frames`, `files/<sha256>`, `secret` (when the data
 * directory has one). Directories 0700, files 0600: the records hold argon2 password hashes and
 * `secret` signs every token.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { Changelog, FileStore, type EncodedRecord } from '@wheelhouse/changelog';
import { takeBlobLease } from '@wheelhouse/core';
import { SERVER_VERSION, readNodeFile } from '@wheelhouse/http';
import { FrameDecoder, encodeFrame } from '@wheelhouse/replication';
import { ensureEmptyDir, type Progress } from './export.js';
import { isInUse, pullChangelog } from './snapshot.js';
import { DumpError } from './import.js';
import { PRIVATE_FILE_MODE, copyPrivateFile, makePrivateDir, writePrivateFile } from './private-files.js';

/** `backup.json`. */
export interface BackupInfo {
  'backup-format': 1;
  'server-version': string;
  uuid: string;
  /** last serial in the backup */
  serial: number;
  /** 'direct' (node stopped) or 'online' */
  mode: 'direct' | 'online';
  created: string;
  files: number;
}

async function listBlobs(filesDir: string): Promise<string[]> {
  const out: string[] = [];
  const root = join(filesDir, 'sha256');
  for (const a of await readdir(root).catch(() => [] as string[])) {
    for (const b of await readdir(join(root, a)).catch(() => [] as string[])) {
      for (const name of await readdir(join(root, a, b)).catch(() => [] as string[])) if (/^[0-9a-f]{64}$/.test(name)) out.push(name);
    }
  }
  return out.sort();
}

/** Backs up `datadir` into `out` (absent or empty). */
export async function backupDatadir(datadir: string, out: string, opts: { secretFile?: string; hardLinks?: boolean; progress?: Progress } = {}): Promise<BackupInfo> {
  await ensureEmptyDir(out);
  // garbage collection of the node removes nothing while the backup copies (core/src/gc/leases.ts)
  const lease = await takeBlobLease(join(datadir, 'files'), 'backup');
  try {
    return await backupLeased(datadir, out, opts);
  } finally {
    await lease.release();
  }
}

async function backupLeased(datadir: string, out: string, opts: { secretFile?: string; hardLinks?: boolean; progress?: Progress }): Promise<BackupInfo> {
  const framesPath = join(out, 'changelog.frames');
  const sink = createWriteStream(framesPath, { mode: PRIVATE_FILE_MODE });
  const write = (rec: EncodedRecord): Promise<void> =>
    new Promise((resolve, reject) => sink.write(encodeFrame(rec.bytes), (err) => (err ? reject(err) : resolve())));
  let uuid: string;
  let serial: number;
  let mode: BackupInfo['mode'] = 'direct';
  try {
    const changelog = await Changelog.open({ location: join(datadir, 'db') });
    try {
      uuid = changelog.uuid;
      serial = changelog.head;
      for await (const rec of changelog.changesSince(0)) {
        if (rec.serial > serial) break;
        await write(rec);
        opts.progress?.('changelog', rec.serial + 1, serial + 1);
      }
    } finally {
      await changelog.close();
    }
  } catch (err) {
    if (!isInUse(err)) throw err;
    const node = await readNodeFile(datadir);
    if (!node) throw new Error(`${datadir} is in use by a running node without node.json`);
    const secret = await readFile(opts.secretFile ?? join(datadir, 'secret'));
    mode = 'online';
    ({ head: serial, uuid } = await pullChangelog(node.url, secret, write, (s, h) => opts.progress?.('changelog', s + 1, h + 1)));
  }
  await new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolve())));
  // files after the records: every blob a record names was stored before that record committed
  const blobs = await listBlobs(join(datadir, 'files'));
  const store = new FileStore(join(datadir, 'files'));
  await makePrivateDir(join(out, 'files'));
  let done = 0;
  for (const sha of blobs) {
    const dst = join(out, 'files', sha);
    if (opts.hardLinks) await link(store.pathFor(sha), dst).catch(() => copyPrivateFile(store.pathFor(sha), dst));
    else await copyPrivateFile(store.pathFor(sha), dst);
    opts.progress?.('files', ++done, blobs.length);
  }
  await copyPrivateFile(opts.secretFile ?? join(datadir, 'secret'), join(out, 'secret')).catch(() => undefined);
  const info: BackupInfo = { 'backup-format': 1, 'server-version': SERVER_VERSION, uuid, serial, mode, created: new Date().toISOString(), files: blobs.length };
  await writePrivateFile(join(out, 'backup.json'), JSON.stringify(info, null, 2) + '\n');
  return info;
}

/** Restores a backup into the new data directory `datadir` (same UUID and serials). */
export async function restoreBackup(backupDir: string, datadir: string, opts: { progress?: Progress } = {}): Promise<BackupInfo> {
  let info: BackupInfo;
  try {
    info = JSON.parse(await readFile(join(backupDir, 'backup.json'), 'utf8')) as BackupInfo;
  } catch (err) {
    throw new DumpError(`${backupDir}: no readable backup.json (${(err as Error).message}); the backup is incomplete`);
  }
  if (info['backup-format'] !== 1) throw new DumpError(`${backupDir}: backup format ${String(info['backup-format'])} is not supported`);
  const existing = await readdir(datadir).catch(() => undefined);
  if (existing && existing.length > 0) throw new DumpError(`${datadir} is not empty: restore only into a new data directory`);
  const tmp = join(dirname(datadir), `.${basename(datadir)}.restoring-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    const files = new FileStore(join(tmp, 'files'));
    const names = (await readdir(join(backupDir, 'files')).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{64}$/.test(n));
    let done = 0;
    for (const sha of names) {
      await files.put(createReadStream(join(backupDir, 'files', sha)), { expectedSha256: sha }).catch((err: Error) => {
        throw new DumpError(`${backupDir}: file ${sha} is damaged: ${err.message}`);
      });
      opts.progress?.('files', ++done, names.length);
    }
    const changelog = await Changelog.open({ location: join(tmp, 'db'), create: true, sync: false, uuid: info.uuid });
    try {
      const decoder = new FrameDecoder();
      for await (const chunk of createReadStream(join(backupDir, 'changelog.frames'))) {
        for (const payload of decoder.push(chunk as Uint8Array)) {
          await changelog.apply(payload);
          opts.progress?.('changelog', changelog.head + 1, info.serial + 1);
        }
      }
      if (decoder.pending > 0 || changelog.head !== info.serial) {
        throw new DumpError(`${backupDir}: changelog.frames ends at serial ${changelog.head}, backup.json says ${info.serial}`);
      }
    } finally {
      await changelog.close();
    }
    await copyPrivateFile(join(backupDir, 'secret'), join(tmp, 'secret')).catch(() => undefined);
    if (existing) await rm(datadir, { recursive: true, force: true });
    await rename(tmp, datadir);
    return info;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (err instanceof DumpError) throw err;
    throw new DumpError(`restore failed: ${(err as Error).message}`);
  }
}
