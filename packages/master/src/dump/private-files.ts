/**
 * Dumps and backups hold argon2 password hashes (user records) and the cluster's secret file, so
 * everything they write is private to the operator: directories 0700, files 0600, whatever the
 * umask (the modes are set explicitly, not left to `open`'s umask-filtered defaults). Hard-linked
 * blobs keep the file store's mode (they share its inode); they sit in a 0700 directory.
 */
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';

/** Mode of every directory a dump or backup creates. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file a dump or backup writes. */
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and parents) and makes it 0700 (also when it existed, e.g. an empty output directory). */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}

/** Writes `data` to the new file `path`, mode 0600. */
export async function writePrivateFile(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(path, data, { mode: PRIVATE_FILE_MODE });
  await chmod(path, PRIVATE_FILE_MODE);
}

/** Copies `src` to `dst` and makes the copy 0600 (`copyFile` would keep the source's mode). */
export async function copyPrivateFile(src: string, dst: string): Promise<void> {
  await copyFile(src, dst);
  await chmod(dst, PRIVATE_FILE_MODE);
}
