/**
 * Test support for the page handler tests: an in-memory changelog holding user `alice` with the
 * stage `alice/dev` (project `Demo_Pkg` 1.0: a wheel, a doc zip and a test result of the wheel),
 * the mirror `root/pypi`, and the request facts of a page under `http://wh.test`.
 */
import { Changelog } from '@wheelhouse/changelog';
import { createIndex } from '../model/indexes.js';
import { entrypathFor } from '../model/stage-paths.js';
import { attachFile, attachToxResult } from '../model/releases.js';
import { createUser } from '../model/users.js';
import type { PageRequest } from './page-result.js';

/** sha256 of the fixture's wheel, doc zip and test result (not real hashes: nothing reads their bytes). */
export const WHEEL_SHA = 'a'.repeat(64);
export const DOC_SHA = 'd'.repeat(64);
export const TOX_SHA = 'e'.repeat(64);

/** The fixture state (see module doc). */
export async function webFixture(): Promise<Changelog> {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'alice', { title: 'Alice A.' });
    createUser(tx, 'root', {});
    createIndex(tx, 'alice', 'dev', { title: 'Development' });
    createIndex(tx, 'root', 'pypi', { type: 'mirror' });
    const meta = { name: 'Demo_Pkg', version: '1.0', summary: 'A frobnicating widget' };
    attachFile(tx, 'alice/dev', meta, { filename: 'demo_pkg-1.0-py3-none-any.whl', sha256: WHEEL_SHA, size: 100 }, 'releasefile', 'alice');
    attachFile(tx, 'alice/dev', meta, { filename: 'demo_pkg-1.0.doc.zip', sha256: DOC_SHA, size: 50 }, 'doczip', 'alice');
    attachToxResult(tx, entrypathFor('alice/dev', WHEEL_SHA, 'demo_pkg-1.0-py3-none-any.whl'), { sha256: TOX_SHA, size: 10 }, 'ci');
  });
  return cl;
}

/** Request facts of a page at `url` (path and query). */
export function pageRequest(url: string): PageRequest {
  return { base: 'http://wh.test', originalUrl: url };
}
