/**
 * `<datadir>/node.json`: where a running node listens (role, URL, pid). Written when it starts
 * listening, removed when it stops. Offline tools (`export`, `backup`) read it to reach a running
 * node whose LevelDB they cannot open (it is locked by the node).
 */
import { readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** What a running node says about itself. */
export interface NodeFile {
  role: 'master' | 'replica';
  /** URL the node listens at (loopback-reachable from the same host). */
  url: string;
  pid: number;
}

/** Path of the file in a data directory. */
export function nodeFilePath(datadir: string): string {
  return join(datadir, 'node.json');
}

/** Writes the file atomically. */
export async function writeNodeFile(datadir: string, info: NodeFile): Promise<void> {
  const tmp = `${nodeFilePath(datadir)}.tmp`;
  await writeFile(tmp, JSON.stringify(info) + '\n');
  await rename(tmp, nodeFilePath(datadir));
}

/** Reads the file, or undefined when absent or unreadable. */
export async function readNodeFile(datadir: string): Promise<NodeFile | undefined> {
  try {
    return JSON.parse(await readFile(nodeFilePath(datadir), 'utf8')) as NodeFile;
  } catch {
    return undefined;
  }
}

/** Removes the file (no-op when absent). */
export async function removeNodeFile(datadir: string): Promise<void> {
  await rm(nodeFilePath(datadir), { force: true });
}
