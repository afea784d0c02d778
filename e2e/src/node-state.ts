// The state of a stopped node read straight from its data directory: the changelog's head serial and
// `stateDigest()` (equal on two stores iff their states are equal), and the release files under
// `files/sha256/ab/cd/<sha256>`. Used to prove that replicas hold exactly the master's state.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Changelog } from '@wheelhouse/changelog';
import type { WheelhouseProcess } from '@wheelhouse/testing';
import { sha256Hex } from './fixture-build.js';

export interface StoreState {
  readonly head: number;
  readonly digest: string;
}

/** Opens the (stopped) node's changelog read-only in spirit: head and state digest, then closes it. */
export async function storeState(datadir: string): Promise<StoreState> {
  const changelog = await Changelog.open({ location: join(datadir, 'db') });
  try {
    return { head: changelog.head, digest: await changelog.stateDigest() };
  } finally {
    await changelog.close();
  }
}

/** Where the file store keeps a blob: `D/files/sha256/ab/cd/<sha256>`. */
export function blobPath(datadir: string, sha256: string): string {
  return join(datadir, 'files', 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
}

export function hasBlob(node: WheelhouseProcess, sha256: string): boolean {
  return existsSync(blobPath(node.datadir, sha256));
}

/** Every blob under `D/files/sha256`: file name → path. */
export function blobFiles(datadir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(name, p);
    }
  };
  walk(join(datadir, 'files', 'sha256'));
  return out;
}

/**
 * Differences between two nodes' blob stores: names only on one side, and names whose bytes differ
 * (or do not hash to their name). Empty when the stores are byte-identical.
 */
export function compareBlobStores(a: WheelhouseProcess, b: WheelhouseProcess): string[] {
  const left = blobFiles(a.datadir);
  const right = blobFiles(b.datadir);
  const problems: string[] = [];
  for (const name of left.keys()) if (!right.has(name)) problems.push(`${name} on ${a.name} only`);
  for (const name of right.keys()) if (!left.has(name)) problems.push(`${name} on ${b.name} only`);
  for (const [name, path] of left) {
    const other = right.get(name);
    if (other === undefined) continue;
    const x = readFileSync(path);
    const y = readFileSync(other);
    if (!x.equals(y)) problems.push(`${name}: bytes differ between ${a.name} (${x.length} B) and ${b.name} (${y.length} B)`);
    else if (sha256Hex(x) !== name) problems.push(`${name}: content on both nodes hashes to ${sha256Hex(x)}`);
  }
  return problems;
}
