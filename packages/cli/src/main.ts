/**
 * `wheelhouse`: the one command line. Sub-commands: `init`, `master`, `replica`, `proxy`, `cluster`
 * (the README's first command: master, replica and proxy on a default data directory) and `passwd`.
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { pino } from 'pino';
import { Changelog, NotInitialisedError } from '@wheelhouse/changelog';
import { getIndex, hashPassword, listIndexNames, listUserNames, modifyUser } from '@wheelhouse/core';
import {
  backupDatadir,
  createMasterApp,
  datadirPaths,
  exportDump,
  importDevpiExport,
  importDump,
  initDatadir,
  openSnapshot,
  restoreBackup,
} from '@wheelhouse/master';
import { readFile } from 'node:fs/promises';
import { createProgress } from './progress.js';
import { createReplicaApp } from '@wheelhouse/replica';
import { createProxy } from '@wheelhouse/proxy';
import { runCluster } from './cluster.js';
import { genConfig } from './gen-config.js';
import { ConfigError, resolveSettings, type MasterSettings } from './config.js';

/** Where `cluster` keeps its data when no --datadir is given: `.wheelhouse/` in the working directory. */
export const DEFAULT_DATADIR = '.wheelhouse';

function fail(message: string, code = 2): never {
  process.stderr.write(`wheelhouse: ${message}\n`);
  process.exit(code);
}

/** Runs a master until SIGINT/SIGTERM; prints the URLs to give pip and twine. */
async function runMaster(settings: MasterSettings): Promise<void> {
  const logger = pino({ level: settings['log-level'] });
  let app;
  try {
    app = await createMasterApp({
      datadir: settings.datadir,
      host: settings.host,
      port: settings.port,
      maxFileBytes: settings['max-file-bytes'],
      syncCommits: settings['sync-commits'],
      logger,
      ...(settings.offline ? { offline: true } : {}),
      ...(settings['secret-file'] ? { secretFile: settings['secret-file'] } : {}),
      ...(settings['outside-url'] ? { outsideUrl: settings['outside-url'] } : {}),
    });
  } catch (err) {
    if (err instanceof NotInitialisedError) {
      fail(`${settings.datadir} is not a Wheelhouse data directory; create it with: wheelhouse init --datadir ${settings.datadir}`);
    }
    fail((err as Error).message);
  }
  const port = await app.listen();
  const url = settings['outside-url'] ?? `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
  logger.info({ url, uuid: app.changelog.uuid, serial: app.changelog.head, datadir: resolve(settings.datadir) }, 'master listening');
  const lines = [`Wheelhouse master serving ${resolve(settings.datadir)} at ${url}`];
  for (const user of listUserNames(app.changelog)) {
    for (const ix of listIndexNames(app.changelog, user)) {
      const pip = `  pip install --index-url ${url}/${user}/${ix}/+simple/ PROJECT`;
      lines.push(getIndex(app.changelog, user, ix)?.type === 'mirror' ? `${pip}   (mirror)` : `${pip}   |   twine upload --repository-url ${url}/${user}/${ix}/ FILES`);
    }
  }
  process.stderr.write(lines.join('\n') + '\n');
  onSignals(logger, () => app.close());
}

/** Closes cleanly on SIGINT/SIGTERM, then exits. */
function onSignals(logger: pino.Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down');
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function promptPassword(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  try {
    return await rl.question(prompt);
  } finally {
    rl.close();
  }
}

const program = new Command('wheelhouse')
  .description('A private, devpi-compatible Python package index')
  .showHelpAfterError();

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

const masterFlags = (cmd: Command): Command =>
  cmd
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--port <port>', 'TCP port (default 3141)')
    .option('--secret-file <file>', 'file whose bytes sign login tokens (default <datadir>/secret)')
    .option('--outside-url <url>', 'URL clients use to reach this server')
    .option('--max-file-bytes <n>', 'largest release file accepted, bytes (default 1 GiB)')
    .option('--log-level <level>', 'pino log level (default info)')
    .option('--offline', 'mirror indexes serve only what is cached (master only)')
    .option('--config <file>', 'JSON file with any of these settings');

function settingsFrom(opts: Record<string, unknown>, required: string[] = []): MasterSettings {
  const flags: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) flags[k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = v;
  try {
    return resolveSettings(flags, process.env, required);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

masterFlags(program.command('master').description('run the master server').option('--datadir <dir>', 'data directory made by init')).action(
  async (opts: Record<string, unknown>) => runMaster(settingsFrom(opts)),
);

program
  .command('cluster')
  .description(`run a local cluster — master, replica and proxy — on one data directory (default ./${DEFAULT_DATADIR}, initialised with index root/dev on first run)`)
  .option('--datadir <dir>', 'data directory', DEFAULT_DATADIR)
  .option('--host <host>', 'interface for all three nodes', '127.0.0.1')
  .option('--port <port>', "the proxy's port; master and replica take the next two", '3141')
  .action(async (opts: { datadir: string; host: string; port: string }) => {
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 1 || port > 65533) fail(`--port must be a port number below 65534, not '${opts.port}'`);
    try {
      await runCluster({ datadir: opts.datadir, host: opts.host, port, entry: process.argv[1]! });
    } catch (err) {
      fail((err as Error).message);
    }
  });

program
  .command('proxy')
  .description('run the health-checked reverse proxy in front of a master and its replicas')
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--port <port>', 'TCP port', '3141')
  .option('--master <url>', "the master's URL")
  .option('--replica <url>', 'a replica URL (repeat for several)', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--outside-url <url>', 'URL clients use to reach the proxy')
  .option('--log-level <level>', 'pino log level', 'info')
  .action(async (opts: { host: string; port: string; master?: string; replica: string[]; outsideUrl?: string; logLevel: string }) => {
    const problems: string[] = [];
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`--port must be a port number, not '${opts.port}'`);
    if (!opts.master || !/^https?:\/\//.test(opts.master)) problems.push('--master must be the http(s) URL of the master');
    for (const r of opts.replica) if (!/^https?:\/\//.test(r)) problems.push(`--replica '${r}' is not an http(s) URL`);
    if (problems.length) fail(`invalid configuration: ${problems.join('; ')}`);
    const logger = pino({ level: opts.logLevel });
    const proxy = createProxy({
      host: opts.host,
      port,
      master: opts.master!,
      replicas: opts.replica,
      logger,
      ...(opts.outsideUrl ? { outsideUrl: opts.outsideUrl } : {}),
    });
    const bound = await proxy.listen();
    logger.info({ port: bound, master: opts.master, replicas: opts.replica }, 'proxy listening');
    onSignals(logger, () => proxy.close());
  });

masterFlags(
  program
    .command('replica')
    .description("run a replica: tail the master's changelog, serve reads locally, forward writes")
    .option('--datadir <dir>', 'data directory (created on first start)')
    .option('--master-url <url>', "the master's URL")
    .option('--max-lag-serials <n>', 'readiness bound: serials behind the master (default 50)')
    .option('--follow-new-master', 'when the master gets a new store UUID (import/upgrade), build its state beside the served one and switch'),
).action(async (opts: Record<string, unknown>) => {
  const { followNewMaster, ...rest } = opts;
  const settings = settingsFrom({ port: '3142', ...rest }, ['master-url', 'secret-file']);
  const logger = pino({ level: settings['log-level'] });
  let app;
  try {
    app = await createReplicaApp({
      datadir: settings.datadir,
      host: settings.host,
      port: settings.port,
      masterUrl: settings['master-url']!,
      secretFile: settings['secret-file']!,
      logger,
      ...(settings['outside-url'] ? { outsideUrl: settings['outside-url'] } : {}),
      ...(settings['max-lag-serials'] !== undefined ? { maxLagSerials: settings['max-lag-serials'] } : {}),
      followNewMaster: followNewMaster === true || process.env['WHEELHOUSE_FOLLOW_NEW_MASTER'] === 'true',
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const port = await app.listen();
  logger.info({ port, uuid: app.changelog.uuid, serial: app.changelog.head, master: settings['master-url'] }, 'replica listening');
  process.stderr.write(`Wheelhouse replica of ${settings['master-url']} serving ${resolve(settings.datadir)} at http://${settings.host}:${port}\n`);
  onSignals(logger, () => app.close());
});

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
    const files = await genConfig({ ...opts, replicaUrls: opts.replicaUrl });
    process.stdout.write(files.join('\n') + '\n');
  });

program
  .command('passwd')
  .description("set a user's password in a stopped master's data directory")
  .requiredOption('--datadir <dir>', 'data directory')
  .argument('<user>', 'user name')
  .option('--password <password>', 'new password (prompted when absent)')
  .action(async (user: string, opts: { datadir: string; password?: string }) => {
    let changelog: Changelog;
    try {
      changelog = await Changelog.open({ location: datadirPaths(opts.datadir).db });
    } catch (err) {
      if (err instanceof NotInitialisedError) fail(`${opts.datadir} is not a Wheelhouse data directory`);
      fail(`cannot open ${opts.datadir} (is the master running? stop it, or change the password with PATCH /${user}): ${(err as Error).message}`);
    }
    try {
      const password = opts.password ?? (await promptPassword(`new password for ${user}: `));
      const pwhash = await hashPassword(password);
      await changelog.write((tx) => modifyUser(tx, user, { pwhash }));
      process.stdout.write(`password of ${user} changed\n`);
    } catch (err) {
      fail((err as Error).message);
    } finally {
      await changelog.close();
    }
  });

await program.parseAsync(process.argv);
