/** `wheelhouse master`: runs the master until SIGINT/SIGTERM and prints the URLs to give pip and twine. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { DataDirInUseError, NotInitialisedError } from '@wheelhouse/changelog';
import { createMasterApp, type MasterApp } from '@wheelhouse/master';
import { addSettingFlags } from '../settings/setting-flags.js';
import { masterConfig } from '../settings/node-configs.js';
import { closeOnSignals, fail, ldapConfigOrExit, listenOrExit, reloadTlsOnSighup, settingsOrExit } from './exit.js';
import { baseUrl, masterBanner } from './master-banner.js';
import { etcdEndpoint, etcdTtlMs } from '../failover/etcd-settings.js';
import type { MasterFailover } from '../failover/master-leadership.js';

/** Adds the `master` command to `program`. */
export function addMasterCommand(program: Command): void {
  addSettingFlags(program.command('master').description('run the master server'), 'master').action(async (_opts: unknown, cmd: Command) => {
    const settings = settingsOrExit('master', cmd);
    const ldap = ldapConfigOrExit('master', settings['ldap-config']);
    const logger = pino({ level: settings['log-level'] });
    let app: MasterApp;
    const endpoint = etcdEndpoint(settings);
    // the etcd client is loaded only with --etcd (gRPC takes a while to load)
    const failover: MasterFailover | undefined = endpoint ? (await import('../failover/master-leadership.js')).masterFailover(endpoint, etcdTtlMs(settings), logger) : undefined;
    try {
      app = await createMasterApp({ ...masterConfig(settings, logger, ldap), ...(failover ? { writePermit: failover.writePermit } : {}) });
    } catch (err) {
      if (err instanceof NotInitialisedError) {
        fail(`${settings.datadir} is not a Wheelhouse data directory; create it with: wheelhouse init --datadir ${settings.datadir}`);
      }
      if (err instanceof DataDirInUseError) fail(err.message, 1);
      fail((err as Error).message);
    }
    const port = await listenOrExit(() => app.listen(), settings.host, settings.port);
    const scheme = settings['tls-cert'] ? 'https' : 'http';
    const url = settings['outside-url'] ?? baseUrl(settings.host, port, scheme);
    failover?.start(app, settings['node-url'] ?? baseUrl(settings.host, port, scheme));
    logger.info({ url, uuid: app.changelog.uuid, serial: app.changelog.head, datadir: resolve(settings.datadir) }, 'master listening');
    process.stderr.write(masterBanner(app.changelog, settings.datadir, url).join('\n') + '\n');
    if (settings['tls-cert']) reloadTlsOnSighup(logger, () => app.reloadTls());
    // a clean stop revokes the leadership lease first: a replica is elected at once
    closeOnSignals(logger, async () => {
      await failover?.stop();
      await app.close();
    });
  });
}
