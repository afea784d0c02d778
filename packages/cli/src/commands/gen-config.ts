/** `wheelhouse gen-config`: systemd units for master, replica and proxy (docs/deployment.md). */
import type { Command } from 'commander';
import { writeSystemdUnits } from '../systemd-units.js';

/** Adds the `gen-config` command to `program`. */
export function addGenConfigCommand(program: Command): void {
  program
    .command('gen-config')
    .description('write systemd units for master, replica and proxy (see docs/deployment.md)')
    .requiredOption('--out <dir>', 'directory to write the units to')
    .requiredOption('--master-url <url>', "the master's URL as the other nodes reach it")
    .option('--replica-url <url>', 'a replica URL (repeat for several)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .requiredOption('--outside-url <url>', "the proxy's URL, as clients use it")
    .option('--install-dir <dir>', 'where Wheelhouse is installed', '/opt/wheelhouse')
    .option('--data-root <dir>', 'data directory root on each host', '/var/lib/wheelhouse')
    .option('--secret-file <file>', 'secret file shared by all nodes', '/etc/wheelhouse/secret')
    .option('--user <user>', 'system user to run as', 'wheelhouse')
    .action(async (opts: { out: string; masterUrl: string; replicaUrl: string[]; outsideUrl: string; installDir: string; dataRoot: string; secretFile: string; user: string }) => {
      const { replicaUrl, ...rest } = opts;
      const files = await writeSystemdUnits({ ...rest, replicaUrls: replicaUrl });
      process.stdout.write(files.join('\n') + '\n');
    });
}
