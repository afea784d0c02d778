/**
 * `wheelhouse export`: writes a dump (format in `dump-format.ts`) of a snapshot: the state at one
 * serial and every blob it names, copied (or hard-linked with `hardLinks`) and hashed on the way;
 * `manifest.json` last. Refuses a non-empty output directory. Directories 0700, files 0600: the state
 * holds argon2 password hashes.
 */
import { createReadStream } from 'node:fs';
import { link, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { blobsNamedByState } from '@wheelhouse/core';
import { SERVER_VERSION } from '@wheelhouse/http';
import { DUMP_FORMAT, countState, sha256Hex, stateLine, type Manifest } from './dump-format.js';
import type { Snapshot } from './snapshot.js';
import { inParallel } from './import.js';
import { copyPrivateFile, makePrivateDir, writePrivateFile } from './private-files.js';

/** Progress callback: a phase, items done, items in all. */
export type Progress = (phase: string, done: number, total: number) => void;

/** Fails unless `dir` is absent or empty; creates it, mode 0700 (it will hold password hashes). */
export async function ensureEmptyDir(dir: string): Promise<void> {
  const existing = await readdir(dir).catch(() => undefined);
  if (existing && existing.length > 0) throw new Error(`${dir} is not empty`);
  await makePrivateDir(dir);
}

async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

/** Writes the dump of `snap` into `out`; returns its manifest. Throws naming a missing or corrupt blob. */
export async function exportDump(snap: Snapshot, out: string, opts: { hardLinks?: boolean; progress?: Progress } = {}): Promise<Manifest> {
  await ensureEmptyDir(out);
  const entries = snap.changelog.entries();
  opts.progress?.('state', 0, entries.length);
  const state = entries.map(([k, v]) => stateLine(k, v)).join('');
  await writePrivateFile(join(out, 'state.jsonl'), state);
  opts.progress?.('state', entries.length, entries.length);
  const blobs = blobsNamedByState(entries);
  await makePrivateDir(join(out, 'files'));
  const files: Record<string, number> = {};
  let done = 0;
  await inParallel([...blobs].sort(), 8, async (sha) => {
    const src = snap.files.pathFor(sha);
    const dst = join(out, 'files', sha);
    if (opts.hardLinks) await link(src, dst).catch(() => copyPrivateFile(src, dst));
    else await copyPrivateFile(src, dst).catch((err: Error) => {
      throw new Error(`file ${sha} named by the state is missing from the file store: ${err.message}`);
    });
    const got = await hashFile(dst);
    if (got.sha256 !== sha) throw new Error(`file ${sha} in the file store is corrupt (its content hashes to ${got.sha256})`);
    files[sha] = got.size;
    opts.progress?.('files', ++done, blobs.size);
  });
  const manifest: Manifest = {
    'dump-format': DUMP_FORMAT,
    server: 'wheelhouse',
    'server-version': SERVER_VERSION,
    'source-uuid': snap.uuid,
    serial: snap.changelog.head,
    created: new Date().toISOString(),
    counts: countState(entries),
    'state-sha256': sha256Hex(state),
    // sorted, whatever order the parallel copies finished in
    files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
  await writePrivateFile(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
