/** `wheelhouse export` and `wheelhouse import`: versioned dumps of a store's state (docs/dump-format.md), and devpi-export migration. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { exportDump, importDevpiExport, importDump, openSnapshot } from '@wheelhouse/master';
import { createProgress } from '../progress.js';
import { fail } from './exit.js';

/** Adds the `export` and `import` commands to `program`. */
export function addDumpCommands(program: Command): void {
  program
    .command('export')
    .description("write a versioned dump (manifest, state, files) of a data directory's state at one serial — also while its node runs")
    .requiredOption('--datadir <dir>', 'data directory of a master (or replica)')
    .argument('<out>', 'output directory (absent or empty)')
    .option('--hard-links', 'hard-link files instead of copying them (same file system)')
    .option('--secret-file <file>', 'secret file of a running node (default <datadir>/secret)')
    .action(async (out: string, opts: { datadir: string; hardLinks?: boolean; secretFile?: string }) => {
      const progress = createProgress();
      try {
        const snap = await openSnapshot(opts.datadir, { ...(opts.secretFile ? { secretFile: opts.secretFile } : {}), onRecord: (s, h) => progress('changelog', s + 1, h + 1) });
        try {
          const m = await exportDump(snap, out, { hardLinks: opts.hardLinks === true, progress });
          progress.finish();
          process.stdout.write(`exported serial ${m.serial} of store ${m['source-uuid']} (${snap.mode}) to ${out}: ${JSON.stringify(m.counts)}\n`);
        } finally {
          await snap.close();
        }
      } catch (err) {
        progress.finish();
        fail((err as Error).message, 1);
      }
    });

  program
    .command('import')
    .description('create a new data directory (new store UUID) from a Wheelhouse dump, or from a devpi-export directory')
    .requiredOption('--datadir <dir>', 'data directory to create (absent or empty)')
    .argument('<in>', 'dump directory (or devpi-export directory with --from-devpi)')
    .option('--from-devpi', 'the input is a devpi-export directory (dataindex.json)')
    .option('--secret-file <file>', 'secret file to install in the new data directory (default: a new one)')
    .action(async (input: string, opts: { datadir: string; fromDevpi?: boolean; secretFile?: string }) => {
      const progress = createProgress();
      try {
        const secret = opts.secretFile ? await readFile(opts.secretFile) : undefined;
        const common = { progress, ...(secret ? { secret } : {}) };
        if (opts.fromDevpi) {
          const r = await importDevpiExport(input, opts.datadir, common);
          progress.finish();
          process.stdout.write(
            [
              `imported devpi ${r.devpiVersion} export into ${resolve(opts.datadir)}: store uuid ${r.uuid}, serial ${r.serial}`,
              `  ${r.users} users, ${r.indexes} indexes, ${r.releases} releases, ${r.files} files (${r.blobs} distinct blobs)`,
              ...r.notes.map((n) => `  note: ${n}`),
              '',
            ].join('\n'),
          );
        } else {
          const r = await importDump(input, opts.datadir, common);
          progress.finish();
          process.stdout.write(
            `imported dump of ${r.manifest['source-uuid']} at serial ${r.manifest.serial} into ${resolve(opts.datadir)}: new store uuid ${r.uuid}, serial ${r.serial}, ${JSON.stringify(r.manifest.counts)}\n`,
          );
        }
      } catch (err) {
        progress.finish();
        fail((err as Error).message, 1);
      }
    });
}
