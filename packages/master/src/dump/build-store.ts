/**
 * Builds a new data directory from a logical state and its blobs — the common end of `import`
 * (a Wheelhouse dump) and `import --from-devpi`. Everything is built in a temporary directory
 * beside the target and renamed into place at the end, so a failure leaves no half-imported store.
 * The new store gets a new UUID: it is a new history (replicas of the old master notice).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile, readdir } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { Changelog, FileStore } from '@wheelhouse/changelog';
import type { Progress } from './export.js';
import { inParallel } from './import.js';

/** Keys per changelog record when importing (keeps records, and replica catch-up, smooth). */
const KEYS_PER_RECORD = 500;

/** Result of a build. */
export interface BuildResult {
  uuid: string;
  /** head serial of the new store */
  serial: number;
  keys: number;
  blobs: number;
}

/**
 * Creates `datadir` (absent or empty) holding `entries` and the blobs in `blobPaths`
 * (sha256 → path of the bytes, verified while stored). `secret`: bytes of the secret file to
 * write (default: fresh random).
 */
export async function buildStore(
  datadir: string,
  entries: Array<[string, unknown]>,
  blobPaths: Map<string, string>,
  opts: { secret?: Uint8Array; progress?: Progress } = {},
): Promise<BuildResult> {
  const existing = await readdir(datadir).catch(() => undefined);
  if (existing && existing.length > 0) throw new Error(`${datadir} is not empty: import only into a new data directory`);
  const tmp = join(dirname(datadir), `.${basename(datadir)}.importing-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    const files = new FileStore(join(tmp, 'files'));
    let done = 0;
    await inParallel([...blobPaths], 8, async ([sha, path]) => {
      await files.put(createReadStream(path), { expectedSha256: sha });
      opts.progress?.('files', ++done, blobPaths.size);
    });
    const changelog = await Changelog.open({ location: join(tmp, 'db'), create: true, sync: false });
    try {
      for (let i = 0; i < entries.length; i += KEYS_PER_RECORD) {
        const chunk = entries.slice(i, i + KEYS_PER_RECORD);
        await changelog.write((tx) => {
          for (const [k, v] of chunk) tx.set(k, v);
        });
        opts.progress?.('state', Math.min(i + KEYS_PER_RECORD, entries.length), entries.length);
      }
      await writeFile(join(tmp, 'secret'), opts.secret ?? randomBytes(32).toString('base64'), { mode: 0o600 });
      const result = { uuid: changelog.uuid, serial: changelog.head, keys: entries.length, blobs: blobPaths.size };
      await changelog.close();
      if (existing) await rm(datadir, { recursive: true, force: true });
      await rename(tmp, datadir);
      return result;
    } catch (err) {
      await changelog.close().catch(() => undefined);
      throw err;
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
