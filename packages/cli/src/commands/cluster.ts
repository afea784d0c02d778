/** `wheelhouse cluster`: master, replica and proxy as three processes on one data directory — what `npm start` runs. */
import type { Command } from 'commander';
import { runCluster } from '../local-cluster.js';
import { addSettingFlags } from '../settings/setting-flags.js';
import { DEFAULT_DATADIR } from '../settings/role-schemas.js';
import { fail, settingsOrExit } from './exit.js';

/** Adds the `cluster` command to `program`. */
export function addClusterCommand(program: Command): void {
  const cmd = program
    .command('cluster')
    .description(`run a local cluster — master, replica and proxy — on one data directory (default ./${DEFAULT_DATADIR}, initialised with index root/dev on first run)`);
  addSettingFlags(cmd, 'cluster').action(async (_opts: unknown, cmd: Command) => {
    const settings = settingsOrExit('cluster', cmd);
    try {
      await runCluster({ ...settings, entry: process.argv[1]! });
    } catch (err) {
      fail((err as Error).message);
    }
  });
}
