/**
 * `wheelhouse import --from-devpi DIR`: reads a directory written by `devpi-export` (devpi-server
 * 6.x, `dumpversion` 2: `dataindex.json` plus files) and converts it into Wheelhouse's state —
 * users with their argon2 password hashes (they keep working), stage indexes with their config,
 * releases with metadata, release files with their upload/push/overwrite logs, doc zips and test
 * results — then builds a new data directory (`build-store.ts`). Wheels get their METADATA
 * extracted for PEP 658. Mirror indexes (`root/pypi`) are not supported yet: they are skipped, and
 * dropped from other indexes' bases, with a note in the report.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  entrypathFor,
  keys,
  normalizeProjectName,
  readWheelMetadata,
  siblingEntrypath,
  splitStage,
  type FileEntry,
  type LogEntry,
  type ReleaseLink,
  type ReleaseMetadata,
  type ReleaseRecord,
  type StageConfig,
  type UserRecord,
} from '@wheelhouse/core';
import { buildStore, type BuildResult } from './build-store.js';
import { DumpError } from './import.js';
import { sha256Hex } from './dump-format.js';
import type { Progress } from './export.js';

interface DevpiFile {
  type: 'releasefile' | 'doczip' | 'toxresult';
  projectname: string;
  version: string;
  relpath: string;
  entrymapping: { hashes?: { sha256?: string }; hash_spec?: string; last_modified?: string };
  log?: LogEntry[];
  for_entrypath?: string;
}

interface DevpiIndex {
  indexconfig: Record<string, unknown> & { type: string };
  projects: Record<string, Record<string, ReleaseMetadata>>;
  files: DevpiFile[];
}

interface DataIndex {
  dumpversion: string;
  devpi_server?: string;
  users: Record<string, UserRecord & { pwsalt?: unknown }>;
  indexes: Record<string, DevpiIndex>;
}

/** What the conversion did, for the report. */
export interface DevpiImportReport extends BuildResult {
  devpiVersion: string;
  users: number;
  indexes: number;
  releases: number;
  files: number;
  notes: string[];
}

function shaOf(f: DevpiFile): string {
  const sha = f.entrymapping.hashes?.sha256 ?? /^sha256=([0-9a-f]{64})$/.exec(f.entrymapping.hash_spec ?? '')?.[1];
  if (!sha) throw new DumpError(`${f.relpath}: no sha256 in the export (only sha256 hashes are supported)`);
  return sha;
}

/** Converts and imports a devpi export (see module doc). Throws DumpError naming what is wrong. */
export async function importDevpiExport(dir: string, datadir: string, opts: { secret?: Uint8Array; progress?: Progress } = {}): Promise<DevpiImportReport> {
  let data: DataIndex;
  try {
    data = JSON.parse(await readFile(join(dir, 'dataindex.json'), 'utf8')) as DataIndex;
  } catch (err) {
    throw new DumpError(`${dir}: no readable dataindex.json (${(err as Error).message}); is this a devpi-export directory?`);
  }
  if (String(data.dumpversion) !== '2') throw new DumpError(`${dir}: devpi dump version ${data.dumpversion} is not supported (2 is)`);
  const notes: string[] = [];
  const entries = new Map<string, unknown>();
  const blobPaths = new Map<string, string>();
  const scratch = await mkdtemp(join(tmpdir(), 'wh-devpi-import-'));
  try {
    for (const [name, u] of Object.entries(data.users)) {
      const { pwsalt: _salt, ...rest } = u;
      const user: UserRecord = { ...rest, username: name, created: rest.created ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
      for (const k of Object.keys(user) as Array<keyof UserRecord>) if (user[k] === null || user[k] === undefined) delete user[k];
      entries.set(keys.user(name), user);
    }
    const skipped = new Set<string>();
    for (const [stage, ix] of Object.entries(data.indexes)) {
      if (ix.indexconfig.type !== 'stage') {
        skipped.add(stage);
        notes.push(`skipped ${ix.indexconfig.type} index ${stage}: only stage indexes are supported yet`);
      }
    }
    let releases = 0;
    let fileCount = 0;
    for (const [stage, ix] of Object.entries(data.indexes)) {
      if (skipped.has(stage)) continue;
      const [user, index] = splitStage(stage);
      const c = ix.indexconfig;
      const bases = ((c['bases'] as string[] | undefined) ?? []).filter((b) => {
        if (!skipped.has(b)) return true;
        notes.push(`${stage}: base ${b} dropped (skipped index)`);
        return false;
      });
      const cfg: StageConfig = {
        type: 'stage',
        bases,
        volatile: c['volatile'] !== false,
        acl_upload: (c['acl_upload'] as string[] | undefined) ?? [user],
        acl_toxresult_upload: (c['acl_toxresult_upload'] as string[] | undefined) ?? [':ANONYMOUS:'],
        mirror_whitelist: (c['mirror_whitelist'] as string[] | undefined) ?? [],
        mirror_whitelist_inheritance: c['mirror_whitelist_inheritance'] === 'intersection' ? 'intersection' : 'union',
      };
      for (const k of ['title', 'description', 'custom_data'] as const) if (c[k] !== undefined) (cfg as unknown as Record<string, unknown>)[k] = c[k];
      entries.set(keys.index(user, index), cfg);
      for (const [projectKey, versions] of Object.entries(ix.projects)) {
        const project = normalizeProjectName(projectKey);
        for (const [version, metadata] of Object.entries(versions)) {
          const files = ix.files.filter((f) => normalizeProjectName(f.projectname) === project && f.version === version);
          const links: ReleaseLink[] = [];
          // release files and doc zips first: test results point at release files
          for (const f of [...files.filter((x) => x.type !== 'toxresult'), ...files.filter((x) => x.type === 'toxresult')]) {
            const sha = shaOf(f);
            const path = join(dir, f.relpath);
            const st = await stat(path).catch(() => undefined);
            if (!st) throw new DumpError(`${dir}: ${f.relpath} is listed in dataindex.json but missing`);
            blobPaths.set(sha, path);
            const filename = basename(f.relpath);
            const uploaded = Date.parse(f.entrymapping.last_modified ?? '') || Date.now();
            let entrypath = entrypathFor(stage, sha, filename);
            const link: ReleaseLink = { rel: f.type, entrypath, filename, sha256: sha, size: st.size, uploaded, log: f.log ?? [] };
            if (f.type === 'releasefile') {
              link.requires_python = typeof metadata['requires_python'] === 'string' ? metadata['requires_python'] : '';
              if (/\.whl$/i.test(filename)) {
                const meta = await readWheelMetadata(path, metadata.name || projectKey).catch(() => undefined);
                if (meta) {
                  const metaSha = sha256Hex(meta);
                  const metaPath = join(scratch, metaSha);
                  await writeFile(metaPath, meta);
                  blobPaths.set(metaSha, metaPath);
                  link.metadata_sha256 = metaSha;
                } else notes.push(`${stage}: ${filename}: no METADATA found in the wheel; served without PEP 658 metadata`);
              }
            } else if (f.type === 'toxresult') {
              const forPath = f.for_entrypath ?? '';
              const target = links.find((l) => l.entrypath === forPath);
              if (!target) {
                notes.push(`${stage}: test result ${filename} skipped: the file it tests (${forPath}) is not in this version`);
                continue;
              }
              entrypath = siblingEntrypath(forPath, filename);
              link.entrypath = entrypath;
              link.for_entrypath = forPath;
            }
            links.push(link);
            const entry: FileEntry = { sha256: sha, size: st.size, project, version, rel: f.type, modified: uploaded };
            if (link.metadata_sha256) entry.metadata_sha256 = link.metadata_sha256;
            entries.set(keys.file(entrypath), entry);
            fileCount++;
          }
          const record: ReleaseRecord = { metadata: { ...metadata, name: metadata.name || projectKey, version }, links };
          entries.set(keys.release(stage, project, version), record);
          releases++;
          if (!entries.has(keys.project(stage, project))) {
            entries.set(keys.project(stage, project), { name: project, display_name: metadata.name || projectKey, created: Math.min(...links.map((l) => l.uploaded), Date.now()) });
          }
        }
      }
    }
    const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const result = await buildStore(datadir, sorted, blobPaths, opts);
    return {
      ...result,
      devpiVersion: data.devpi_server ?? 'unknown',
      users: Object.keys(data.users).length,
      indexes: Object.keys(data.indexes).length - skipped.size,
      releases,
      files: fileCount,
      notes,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
