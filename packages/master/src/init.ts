/**
 * `wheelhouse init`: creates a data directory — the changelog store with its UUID, serial 0
 * holding the `root` user — and a secret file for login tokens (mode 0600) unless one is given.
 */
import { mkdir, writeFile, access } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Changelog } from '@wheelhouse/changelog';
import { createUser, hashPassword } from '@wheelhouse/core';
import { datadirPaths } from './master-app.js';

/** Options of {@link initDatadir}. */
export interface InitOptions {
  datadir: string;
  /** root's password; default '' (devpi's default). */
  rootPassword?: string;
}

/** Result of {@link initDatadir}. */
export interface InitResult {
  uuid: string;
  secretFile: string;
}

/** Initialises `datadir`; throws an Error when it already holds a store. */
export async function initDatadir(opts: InitOptions): Promise<InitResult> {
  const paths = datadirPaths(opts.datadir);
  if (await Changelog.exists(paths.db)) throw new Error(`${opts.datadir} is already initialised`);
  await mkdir(opts.datadir, { recursive: true, mode: 0o700 });
  try {
    await access(paths.secret);
  } catch {
    await writeFile(paths.secret, randomBytes(32).toString('base64'), { mode: 0o600 });
  }
  const pwhash = await hashPassword(opts.rootPassword ?? '');
  const changelog = await Changelog.open({ location: paths.db, create: true });
  try {
    await changelog.write((tx) => createUser(tx, 'root', { pwhash }));
    return { uuid: changelog.uuid, secretFile: paths.secret };
  } finally {
    await changelog.close();
  }
}
