/**
 * A master data directory with many releases, built quickly in-process for the dump benchmark:
 * `wheelhouse init`, then a user and a stage, then `projects × versionsPerProject` releases with
 * two release files each (`.tar.gz` and `.zip`, random bytes of 2–8 KB). The file bytes are written
 * straight to the file store's layout (`FileStore.pathFor`) without the per-file fsync of
 * `FileStore.put`; the changelog is opened with `sync: false` and gets one record per release (the
 * two files of a release in one transaction), through the core model's `attachFile`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Changelog, FileStore } from '@wheelhouse/changelog';
import { attachFile, createIndex, createUser, hashPassword, type NewFile } from '@wheelhouse/core';
import { datadirPaths } from '@wheelhouse/master';
import { wheelhouseInit } from '@wheelhouse/testing';

export const STORE_USER = 'bench';
export const STORE_INDEX = 'dev';
/** Password of {@link STORE_USER}, and of root. */
export const STORE_USER_PASSWORD = 'dump-bench-user-password';
export const STORE_ROOT_PASSWORD = 'dump-bench-root';

export interface ReleaseStoreBuild {
  readonly releases: number;
  readonly files: number;
  readonly fileBytes: number;
  readonly serial: number;
  readonly seconds: number;
}

export const projectName = (p: number): string => `dump-proj-${String(p).padStart(4, '0')}`;

async function writeBlob(files: FileStore, bytes: Buffer): Promise<string> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const path = files.pathFor(sha256);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return sha256;
}

/** Options of {@link buildReleaseStore} (defaults: versions `1.V.0`, a plain stage). */
export interface ReleaseStoreOptions {
  /** The version string of the V-th release of a project (0-based). */
  readonly version?: (v: number) => string;
  /** More index config of the stage (e.g. a `retention` policy). */
  readonly index?: Parameters<typeof createIndex>[3];
}

/** Builds the data dir `datadir` (must not exist) holding `projects × versionsPerProject` releases. */
export async function buildReleaseStore(cwd: string, datadir: string, projects: number, versionsPerProject: number, opts: ReleaseStoreOptions = {}): Promise<ReleaseStoreBuild> {
  const t0 = performance.now();
  await wheelhouseInit(datadir, STORE_ROOT_PASSWORD, cwd);
  const paths = datadirPaths(datadir);
  const files = new FileStore(paths.files);
  const changelog = await Changelog.open({ location: paths.db, sync: false });
  let releases = 0;
  let fileCount = 0;
  let fileBytes = 0;
  try {
    const pwhash = await hashPassword(STORE_USER_PASSWORD);
    await changelog.write((tx) => {
      createUser(tx, STORE_USER, { pwhash, email: `${STORE_USER}@example.org` });
      createIndex(tx, STORE_USER, STORE_INDEX, { title: 'dump benchmark stage', acl_upload: [STORE_USER], ...opts.index });
    });
    const stage = `${STORE_USER}/${STORE_INDEX}`;
    for (let p = 0; p < projects; p++) {
      const name = projectName(p);
      for (let v = 0; v < versionsPerProject; v++) {
        const version = opts.version ? opts.version(v) : `1.${v}.0`;
        const made: NewFile[] = [];
        await Promise.all(
          [`${name}-${version}.tar.gz`, `${name}-${version}.zip`].map(async (filename) => {
            const bytes = randomBytes(2048 + Math.floor(Math.random() * 6144));
            made.push({ filename, sha256: await writeBlob(files, bytes), size: bytes.length });
          }),
        );
        const metadata = {
          name,
          version,
          summary: `Release ${version} of ${name}, written by the dump benchmark`,
          requires_python: '>=3.8',
          author: 'Wheelhouse bench',
        };
        await changelog.write((tx) => {
          for (const f of made) attachFile(tx, stage, metadata, f, 'releasefile', STORE_USER);
        });
        releases++;
        fileCount += made.length;
        fileBytes += made.reduce((n, f) => n + f.size, 0);
      }
    }
    return { releases, files: fileCount, fileBytes, serial: changelog.head, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await changelog.close();
  }
}
