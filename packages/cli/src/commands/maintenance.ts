/**
 * `wheelhouse gc` and `wheelhouse cleanup`: ask a running node (found by its data directory's
 * `node.json`, or `--url`) to collect unnamed blobs now (`POST /+gc`; masters and replicas) or to
 * apply the retention policies of its indexes (`POST /+cleanup`; masters). They authenticate with a
 * token of the secret file (`--secret-file`, default `<datadir>/secret`). A stopped node is not
 * touched: its first background run after start does the same (docs/operations.md).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { request } from 'undici';
import { REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS, replicaTokenSigner } from '@wheelhouse/core';
import { readNodeFile } from '@wheelhouse/http';
import { fail } from './exit.js';

interface TargetOptions {
  datadir?: string;
  url?: string;
  secretFile?: string;
}

/** POSTs `path` to the node with a token of the secret; the parsed `result`, or exits with the node's message. */
async function callNode(opts: TargetOptions, path: string): Promise<Record<string, unknown>> {
  const node = opts.datadir ? await readNodeFile(opts.datadir) : undefined;
  const url = opts.url ?? node?.url;
  if (!url) fail(opts.datadir ? `no node is running on ${opts.datadir} (no node.json); start it, or pass --url` : 'pass --datadir of a running node, or --url', 2);
  const secretPath = opts.secretFile ?? (opts.datadir ? join(opts.datadir, 'secret') : undefined);
  if (!secretPath) fail('pass --secret-file (the secret file shared by the cluster)', 2);
  const secret = await readFile(secretPath).catch((e: Error) => fail(`cannot read the secret file ${secretPath}: ${e.message}`, 2));
  const token = replicaTokenSigner(secret).issue(REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS);
  const res = await request(`${url.replace(/\/+$/, '')}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }).catch((e: Error) =>
    fail(`cannot reach ${url}: ${e.message}`, 1),
  );
  const body = (await res.body.json().catch(() => ({}))) as { result?: Record<string, unknown>; message?: string };
  if (res.statusCode !== 200) fail(`${url}${path}: ${res.statusCode} ${body.message ?? ''}`.trim(), 1);
  return body.result ?? {};
}

const mib = (bytes: unknown): string => `${(Number(bytes) / 1024 / 1024).toFixed(1)} MiB`;

function targetOptions(cmd: Command): Command {
  return cmd
    .option('--datadir <dir>', 'data directory of the running node (its node.json says where it listens)')
    .option('--url <url>', "the node's URL (instead of --datadir)")
    .option('--secret-file <file>', 'the secret file (default <datadir>/secret)');
}

/** Adds the `gc` and `cleanup` commands to `program`. */
export function addMaintenanceCommands(program: Command): void {
  targetOptions(program.command('gc').description('remove blobs no key names any more, now (a running master or replica)'))
    .option('--json', 'print the report as JSON')
    .action(async (opts: TargetOptions & { json?: boolean }) => {
      const r = await callNode(opts, '/+gc');
      if (opts.json) return void process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      const held = r['held'] ? ` (held back: ${String(r['held'])}${Array.isArray(r['behind']) && r['behind'].length ? ` by ${r['behind'].join(', ')}` : ''})` : '';
      process.stdout.write(
        `gc at serial ${String(r['serial'])}: freed ${String(r['freedFiles'])} files, ${mib(r['freedBytes'])} in ${String(r['ms'])} ms; ` +
          `store had ${String(r['storedFiles'])} files, ${mib(r['storedBytes'])}; ${String(r['candidates'])} unnamed past the grace period${held}\n`,
      );
    });

  targetOptions(program.command('cleanup').description('apply the retention policies of the indexes (a running master)'))
    .option('--dry-run', 'only print what would be removed')
    .option('--force', 'also clean non-volatile indexes')
    .option('--index <user/index>', 'only this index')
    .action(async (opts: TargetOptions & { dryRun?: boolean; force?: boolean; index?: string }) => {
      const q = new URLSearchParams();
      if (opts.dryRun) q.set('dry_run', '1');
      if (opts.force) q.set('force', '1');
      if (opts.index) q.set('index', opts.index);
      const r = await callNode(opts, `/+cleanup${q.size ? `?${q}` : ''}`);
      const removed = (r['removed'] ?? []) as Array<{ stage: string; project: string; version: string; reason: string }>;
      for (const x of removed) process.stdout.write(`${opts.dryRun ? 'would remove' : 'removed'} ${x.stage} ${x.project} ${x.version}: ${x.reason}\n`);
      for (const s of (r['skippedNonVolatile'] ?? []) as string[]) process.stdout.write(`skipped ${s}: non-volatile (use --force)\n`);
      process.stdout.write(`${removed.length} versions ${opts.dryRun ? 'would be removed' : 'removed'}${opts.dryRun ? '' : '; their files are freed by the next gc'}\n`);
    });
}
