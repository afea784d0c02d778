/**
 * `wheelhouse promote` and `wheelhouse rejoin` (docs/operations.md, "Promotion and rejoin"):
 * a stopped replica becomes the master of the next epoch; a stopped old master becomes a replica
 * of the new one, its diverged records exported beside its data directory.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PromotionRefusedError, RejoinRefusedError, promoteDatadir, rejoinDatadir } from '@wheelhouse/master';
import { fail } from './exit.js';

/** Lists serials compactly: `5..9, 12`. */
function serialList(serials: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < serials.length; ) {
    let j = i;
    while (j + 1 < serials.length && serials[j + 1] === serials[j]! + 1) j++;
    parts.push(i === j ? String(serials[i]) : `${serials[i]}..${serials[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** Adds `promote` and `rejoin` to `program`. */
export function addPromotionCommands(program: Command): void {
  program
    .command('promote')
    .description('make a stopped replica the master of the next epoch (refused unless it is caught up)')
    .requiredOption('--datadir <dir>', "the replica's data directory")
    .option('--peer <url...>', 'other replicas or the proxy to ask for the highest committed serial')
    .option('--master-url <url>', 'the old master (default: the one the replica followed)')
    .option('--outside-url <url>', 'URL the new master will be reached at (recorded in the epoch)')
    .option('--secret-file <file>', "the replica's secret file, copied to <datadir>/secret for the master")
    .option('--force', 'promote even when not shown to be caught up; prints what may be missing')
    .action(async (opts: { datadir: string; peer?: string[]; masterUrl?: string; outsideUrl?: string; secretFile?: string; force?: boolean }) => {
      try {
        const r = await promoteDatadir({
          datadir: opts.datadir, force: opts.force === true, peers: opts.peer ?? [],
          ...(opts.masterUrl !== undefined ? { masterUrl: opts.masterUrl } : {}),
          ...(opts.outsideUrl ? { outsideUrl: opts.outsideUrl } : {}),
          ...(opts.secretFile ? { secretFile: opts.secretFile } : {}),
        });
        for (const e of r.evidence) process.stdout.write(`  asked ${e.url}: ${e.error ? `no answer (${e.error})` : `${e.role ?? '?'} serial ${e.serial ?? '?'} epoch ${e.epoch ?? '?'}`}\n`);
        if (r.missing.length) process.stdout.write(`WARNING: forced; serials that may be missing (committed by the old master, not here): ${serialList(r.missing)}\n`);
        if (r.unconfirmed) process.stdout.write('WARNING: forced; no witness confirmed what the old master acknowledged: writes after serial ' + r.head + ' may be missing\n');
        process.stdout.write(`promoted ${resolve(opts.datadir)} to master of epoch ${r.epoch} (was ${r.previousEpoch}) at serial ${r.serial}; start it with: wheelhouse master --datadir ${opts.datadir}\n`);
      } catch (err) {
        if (err instanceof PromotionRefusedError) {
          for (const e of err.evidence) process.stderr.write(`  asked ${e.url}: ${e.error ? `no answer (${e.error})` : `${e.role ?? '?'} serial ${e.serial ?? '?'} epoch ${e.epoch ?? '?'}`}\n`);
          fail(`promotion refused: ${err.reason}${err.missing.length ? ` (missing: ${serialList(err.missing)})` : ''}`, 1);
        }
        fail((err as Error).message, 1);
      }
    });

  program
    .command('rejoin')
    .description('make a stopped old master a replica of the new master; exports its diverged records')
    .requiredOption('--datadir <dir>', "the old master's data directory")
    .requiredOption('--master-url <url>', 'the new master')
    .option('--secret-file <file>', 'the cluster secret file (default <datadir>/secret)')
    .action(async (opts: { datadir: string; masterUrl: string; secretFile?: string }) => {
      try {
        const r = await rejoinDatadir({ datadir: opts.datadir, masterUrl: opts.masterUrl, ...(opts.secretFile ? { secretFile: opts.secretFile } : {}) });
        if (r.diverged) {
          process.stdout.write(`diverged: ${r.diverged} records (serials ${serialList(r.divergedSerials)}) committed here in epoch ${r.localEpoch} are not on the new master (epoch ${r.masterEpoch} began at serial ${r.termStart}); exported to ${r.exportDir} (records.jsonl, ${r.exportedFiles} files, the old store in db/) — nothing was merged\n`);
        } else process.stdout.write(`no diverged records: this node's serials 0..${r.head} are the new master's\n`);
        process.stdout.write(`rejoined ${resolve(opts.datadir)} as a replica of ${opts.masterUrl} (store ${r.store}); start it with: wheelhouse replica --datadir ${opts.datadir} --master-url ${opts.masterUrl} --secret-file ${opts.secretFile ?? `${opts.datadir}/secret`}\n`);
      } catch (err) {
        fail(err instanceof RejoinRefusedError ? `rejoin refused: ${err.message}` : (err as Error).message, 1);
      }
    });
}
