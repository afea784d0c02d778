/** `wheelhouse replica`: tails the master's changelog, serves reads locally, forwards writes; runs until SIGINT/SIGTERM. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { DataDirInUseError } from '@wheelhouse/changelog';
import { createReplicaApp, type ReplicaApp } from '@wheelhouse/replica';
import { addSettingFlags } from '../settings/setting-flags.js';
import { replicaConfig } from '../settings/node-configs.js';
import { closeOnSignals, fail, ldapConfigOrExit, listenOrExit, reloadTlsOnSighup, settingsOrExit } from './exit.js';
import { etcdEndpoint, etcdTtlMs } from '../failover/etcd-settings.js';
import { masterSettingsSchema } from '../settings/role-schemas.js';

/** Adds the `replica` command to `program`. */
export function addReplicaCommand(program: Command): void {
  const cmd = program.command('replica').description("run a replica: tail the master's changelog, serve reads locally, forward writes");
  addSettingFlags(cmd, 'replica').action(async (_opts: unknown, cmd: Command) => {
    const settings = settingsOrExit('replica', cmd);
    const ldap = ldapConfigOrExit('replica', settings['ldap-config']);
    const logger = pino({ level: settings['log-level'] });
    const endpoint = etcdEndpoint(settings);
    if (endpoint) {
      // automatic failover: a replica that may become the master in place (failover/failover-node.ts; loaded only with --etcd)
      const { startFailoverNode } = await import('../failover/failover-node.js');
      const ttlMs = etcdTtlMs(settings);
      const node = await listenOrExit(
        () =>
          startFailoverNode({
            replica: replicaConfig(settings, logger, ldap),
            endpoint,
            ...(ttlMs !== undefined ? { ttlMs } : {}),
            maxFileBytes: masterSettingsSchema.properties['max-file-bytes'].default,
            log: logger,
            ...(settings['node-url'] ? { nodeUrl: settings['node-url'] } : {}),
          }),
        settings.host,
        settings.port,
      ).catch((err: Error) => fail(err.message, err.name === 'DataDirInUseError' ? 1 : 2));
      process.stderr.write(`Wheelhouse ${node.role()} (automatic failover via etcd ${endpoint.hosts.join(',')}) serving ${resolve(settings.datadir)} at http://${settings.host}:${node.port}\n`);
      closeOnSignals(logger, () => node.stop());
      return;
    }
    let app: ReplicaApp;
    try {
      app = await createReplicaApp(replicaConfig(settings, logger, ldap));
    } catch (err) {
      fail((err as Error).message, err instanceof DataDirInUseError ? 1 : 2);
    }
    const port = await listenOrExit(() => app.listen(), settings.host, settings.port);
    logger.info({ port, uuid: app.changelog.uuid, serial: app.changelog.head, master: settings['master-url'] }, 'replica listening');
    process.stderr.write(`Wheelhouse replica of ${settings['master-url']} serving ${resolve(settings.datadir)} at ${settings['tls-cert'] ? 'https' : 'http'}://${settings.host}:${port}\n`);
    if (settings['tls-cert']) reloadTlsOnSighup(logger, () => app.reloadTls());
    closeOnSignals(logger, () => app.close());
  });
}
