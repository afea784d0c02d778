/** `wheelhouse init`: creates a master's data directory with the root user and a secret file. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { initDatadir } from '@wheelhouse/master';
import { fail } from './exit.js';

/** Adds the `init` command to `program`. */
export function addInitCommand(program: Command): void {
  program
    .command('init')
    .description('create a data directory with the root user and a secret file')
    .requiredOption('--datadir <dir>', 'data directory to create')
    .option('--root-password <password>', "root's password", '')
    .option('--no-root-pypi', 'do not create the root/pypi mirror of PyPI')
    .action(async (opts: { datadir: string; rootPassword: string; rootPypi: boolean }) => {
      try {
        const { uuid, secretFile } = await initDatadir({ datadir: opts.datadir, rootPassword: opts.rootPassword, noRootPypi: !opts.rootPypi });
        process.stdout.write(`initialised ${resolve(opts.datadir)} (store uuid ${uuid}, secret file ${secretFile})\n`);
      } catch (err) {
        fail((err as Error).message);
      }
    });
}
