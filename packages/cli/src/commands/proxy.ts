/** `wheelhouse proxy`: the health-checked reverse proxy in front of a master and its replicas; runs until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { pino } from 'pino';
import { createProxy } from '@wheelhouse/proxy';
import { addSettingFlags } from '../settings/setting-flags.js';
import { proxyConfig } from '../settings/node-configs.js';
import { closeOnSignals, listenOrExit, settingsOrExit } from './exit.js';

/** Adds the `proxy` command to `program`. */
export function addProxyCommand(program: Command): void {
  const cmd = program.command('proxy').description('run the health-checked reverse proxy in front of a master and its replicas');
  addSettingFlags(cmd, 'proxy').action(async (_opts: unknown, cmd: Command) => {
    const settings = settingsOrExit('proxy', cmd);
    const logger = pino({ level: settings['log-level'] });
    const proxy = createProxy(proxyConfig(settings, logger));
    const bound = await listenOrExit(() => proxy.listen(), settings.host, settings.port);
    logger.info({ port: bound, master: settings.master, replicas: settings.replica }, 'proxy listening');
    closeOnSignals(logger, () => proxy.close());
  });
}
