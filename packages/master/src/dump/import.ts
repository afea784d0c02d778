/**
 * `wheelhouse import DUMP --datadir D`: checks a dump completely before anything is written —
 * manifest present and of a known format, `state.jsonl` hash, every line well-formed, the counts,
 * and every file's presence, size and sha256 — then builds a new data directory with a new UUID
 * (`build-store.ts`). A damaged dump fails with a message naming what is wrong.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { blobsNamedByState } from '@wheelhouse/core';
import { DUMP_FORMAT, countState, dropUnlistedMirrorLists, sha256Hex, type DumpCounts, type Manifest } from './dump-format.js';
import { buildStore, type BuildResult } from './build-store.js';
import type { Progress } from './export.js';

/** Runs `fn` over `items` with at most `limit` at a time; rejects with the first error. */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A problem with a dump (the CLI prints it and exits non-zero). */
export class DumpError extends Error {}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** What `readDump` found: the manifest, the state entries to import, the blob files (sha256 → path). */
export interface DumpContents {
  manifest: Manifest;
  entries: Array<[string, unknown]>;
  blobPaths: Map<string, string>;
  /** `mirrorlist/…` keys left out because the dump lacks their pages (dumps of older versions; see `dropUnlistedMirrorLists`) */
  dropped: string[];
}

/** Reads and verifies a dump; returns its manifest and state entries. Throws DumpError. */
export async function readDump(dir: string, progress?: Progress): Promise<DumpContents> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (err) {
    throw new DumpError(`${dir}: no readable manifest.json (${(err as Error).message}); the dump is incomplete or not a Wheelhouse dump`);
  }
  if (manifest['dump-format'] !== DUMP_FORMAT) {
    throw new DumpError(`${dir}: dump format ${String(manifest['dump-format'])} is not supported (this version reads format ${DUMP_FORMAT})`);
  }
  let text: string;
  try {
    text = await readFile(join(dir, 'state.jsonl'), 'utf8');
  } catch (err) {
    throw new DumpError(`${dir}: state.jsonl is missing (${(err as Error).message})`);
  }
  if (sha256Hex(text) !== manifest['state-sha256']) throw new DumpError(`${dir}: state.jsonl does not match the manifest's state-sha256 (damaged or edited)`);
  const parsed: Array<[string, unknown]> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!raw) continue;
    let line: { key?: unknown; value?: unknown };
    try {
      line = JSON.parse(raw) as { key?: unknown; value?: unknown };
    } catch {
      throw new DumpError(`${dir}: state.jsonl line ${i + 1} is not JSON`);
    }
    if (typeof line.key !== 'string' || line.value === undefined || line.value === null) throw new DumpError(`${dir}: state.jsonl line ${i + 1} lacks a key or value`);
    parsed.push([line.key, line.value]);
  }
  const { kept: entries, dropped } = dropUnlistedMirrorLists(parsed, manifest.files);
  const counts = countState(entries);
  for (const k of Object.keys(manifest.counts) as Array<keyof DumpCounts>) {
    if (counts[k] !== manifest.counts[k]) throw new DumpError(`${dir}: the manifest counts ${manifest.counts[k]} ${k}, the state holds ${counts[k]}`);
  }
  const blobPaths = new Map<string, string>();
  let done = 0;
  for (const sha of blobsNamedByState(entries)) {
    if (!(sha in manifest.files)) throw new DumpError(`${dir}: the state names file ${sha}, which the manifest does not list`);
  }
  const listed = Object.entries(manifest.files);
  await inParallel(listed, 8, async ([sha, size]) => {
    const path = join(dir, 'files', sha);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new DumpError(`${dir}: file ${sha} is missing from files/`);
    if (st.size !== size) throw new DumpError(`${dir}: file ${sha} has ${st.size} bytes, the manifest says ${size}`);
    if ((await fileSha256(path)) !== sha) throw new DumpError(`${dir}: file ${sha} is corrupt (its content does not hash to its name)`);
    blobPaths.set(sha, path);
    progress?.('verify', ++done, listed.length);
  });
  return { manifest, entries, blobPaths, dropped };
}

/** Verifies `dir` and imports it into the new data directory `datadir`. */
export async function importDump(
  dir: string,
  datadir: string,
  opts: { secret?: Uint8Array; progress?: Progress } = {},
): Promise<BuildResult & { manifest: Manifest; dropped: string[] }> {
  const { manifest, entries, blobPaths, dropped } = await readDump(dir, opts.progress);
  const result = await buildStore(datadir, entries, blobPaths, opts);
  return { ...result, manifest, dropped };
}
