/** `wheelhouse backup` and `wheelhouse restore`: copy a node's store (same UUID and serials) and turn the copy back into a data directory (docs/operations.md). */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { backupDatadir, restoreBackup } from '@wheelhouse/master';
import { createProgress } from '../progress.js';
import { fail } from './exit.js';

/** Adds the `backup` and `restore` commands to `program`. */
export function addBackupCommands(program: Command): void {
  program
    .command('backup')
    .description("copy a node's store (changelog, files, secret) — also while it runs")
    .requiredOption('--datadir <dir>', 'data directory of a master or replica')
    .argument('<out>', 'backup directory (absent or empty)')
    .option('--hard-links', 'hard-link files instead of copying them')
    .option('--secret-file <file>', 'secret file of a running node (default <datadir>/secret)')
    .action(async (out: string, opts: { datadir: string; hardLinks?: boolean; secretFile?: string }) => {
      const progress = createProgress();
      try {
        const info = await backupDatadir(opts.datadir, out, { progress, hardLinks: opts.hardLinks === true, ...(opts.secretFile ? { secretFile: opts.secretFile } : {}) });
        progress.finish();
        process.stdout.write(`backed up store ${info.uuid} up to serial ${info.serial} (${info.mode}, ${info.files} files) to ${out}\n`);
      } catch (err) {
        progress.finish();
        fail((err as Error).message, 1);
      }
    });

  program
    .command('restore')
    .description('turn a backup back into a data directory (same store UUID and serials)')
    .requiredOption('--datadir <dir>', 'data directory to create (absent or empty)')
    .argument('<backup>', 'backup directory')
    .action(async (backup: string, opts: { datadir: string }) => {
      const progress = createProgress();
      try {
        const info = await restoreBackup(backup, opts.datadir, { progress });
        progress.finish();
        process.stdout.write(`restored store ${info.uuid} at serial ${info.serial} into ${resolve(opts.datadir)}\n`);
      } catch (err) {
        progress.finish();
        fail((err as Error).message, 1);
      }
    });
}
