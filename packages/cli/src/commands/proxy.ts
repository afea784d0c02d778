/** `wheelhouse proxy`: the health-checked reverse proxy in front of a master and its replicas; runs until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { pino } from 'pino';
import { TlsFileError } from '@wheelhouse/http';
import { createProxy, type Proxy } from '@wheelhouse/proxy';
import { addSettingFlags } from '../settings/setting-flags.js';
import { proxyConfig } from '../settings/node-configs.js';
import { closeOnSignals, fail, listenOrExit, reloadTlsOnSighup, settingsOrExit } from './exit.js';

/** Adds the `proxy` command to `program`. */
export function addProxyCommand(program: Command): void {
  const cmd = program.command('proxy').description('run the health-checked reverse proxy in front of a master and its replicas');
  addSettingFlags(cmd, 'proxy').action(async (_opts: unknown, cmd: Command) => {
    const settings = settingsOrExit('proxy', cmd);
    const logger = pino({ level: settings['log-level'] });
    let proxy: Proxy;
    try {
      proxy = createProxy(proxyConfig(settings, logger));
    } catch (err) {
      if (err instanceof TlsFileError) fail(err.message);
      throw err;
    }
    const bound = await listenOrExit(() => proxy.listen(), settings.host, settings.port);
    logger.info({ port: bound, master: settings.master, replicas: settings.replica }, 'proxy listening');
    if (settings['tls-cert']) reloadTlsOnSighup(logger, () => proxy.reloadTls());
    closeOnSignals(logger, () => proxy.close());
  });
}
