/**
 * `wheelhouse init`: creates a data directory — the changelog store with its UUID, serial 0
 * holding epoch 1 (`+epoch/1`), the `root` user and (unless told not to) the `root/pypi` mirror of PyPI, as devpi — and
 * a secret file for login tokens (mode 0600).
 */
import { mkdir, writeFile, access } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Changelog } from '@wheelhouse/changelog';
import { createIndex, createUser, hashPassword } from '@wheelhouse/core';
import { writeEpoch } from '@wheelhouse/replication';
import { datadirPaths } from './master-app.js';

/** Options of {@link initDatadir}. */
export interface InitOptions {
  datadir: string;
  /** root's password; default '' (devpi's default). */
  rootPassword?: string;
  /** Do not create the `root/pypi` mirror (default: create it, as devpi does). */
  noRootPypi?: boolean;
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
    await changelog.write((tx) => {
      // the first master term (docs/operations.md, "Promotion and rejoin")
      writeEpoch(tx, { epoch: 1, uuid: changelog.uuid, url: '', serial: tx.serial, at: tx.at });
      createUser(tx, 'root', { pwhash });
      if (!opts.noRootPypi) {
        createIndex(tx, 'root', 'pypi', { type: 'mirror', volatile: false, title: 'PyPI', mirror_url: 'https://pypi.org/simple/', mirror_web_url_fmt: 'https://pypi.org/project/{name}/' });
      }
    });
    return { uuid: changelog.uuid, secretFile: paths.secret };
  } finally {
    await changelog.close();
  }
}
