/**
 * `wheelhouse`: the one command line. Each command's wiring lives in `commands/`: `init`, the
 * server roles `master`, `replica`, `proxy` and `cluster` (the README's first command: all three
 * on a default data directory), `export`/`import`, `backup`/`restore`, `gen-config`, `passwd`, and `promote`/`rejoin`.
 * The server roles take their settings through `settings/` (one schema per role).
 */
import { Command } from 'commander';
import { addBackupCommands } from './commands/backup.js';
import { addMaintenanceCommands } from './commands/maintenance.js';
import { addClusterCommand } from './commands/cluster.js';
import { addDumpCommands } from './commands/dump.js';
import { addGenConfigCommand } from './commands/gen-config.js';
import { addInitCommand } from './commands/init.js';
import { addMasterCommand } from './commands/master.js';
import { addPasswdCommand } from './commands/passwd.js';
import { addPromotionCommands } from './commands/promote.js';
import { addProxyCommand } from './commands/proxy.js';
import { addReplicaCommand } from './commands/replica.js';

const program = new Command('wheelhouse').description('A private, devpi-compatible Python package index').showHelpAfterError();
addInitCommand(program);
addMasterCommand(program);
addClusterCommand(program);
addProxyCommand(program);
addReplicaCommand(program);
addDumpCommands(program);
addBackupCommands(program);
addMaintenanceCommands(program);
addGenConfigCommand(program);
addPasswdCommand(program);
addPromotionCommands(program);

await program.parseAsync(process.argv);
