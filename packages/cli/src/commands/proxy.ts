/** `wheelhouse proxy`: the health-checked reverse proxy in front of a master and its replicas; runs until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { pino } from 'pino';
import { TlsFileError } from '@wheelhouse/http';
import { createProxy, type Proxy } from '@wheelhouse/proxy';
import { addSettingFlags } from '../settings/setting-flags.js';
import { proxyConfig } from '../settings/node-configs.js';
import { closeOnSignals, fail, listenOrExit, reloadTlsOnSighup, settingsOrExit } from './exit.js';
import { etcdEndpoint } from '../failover/etcd-settings.js';

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
    // automatic failover: the leader key names the write target (health checks confirm it)
    const endpoint = etcdEndpoint(settings);
    const failover = endpoint ? await import('@wheelhouse/failover') : undefined;
    const etcd = endpoint && failover ? failover.connectEtcd(endpoint) : undefined;
    const watch = etcd && failover
      ? new failover.LeaderWatch(etcd.ns, (view) => view.leader?.serving && proxy.noteLeader(view.leader.url, view.leader.epoch), logger)
      : undefined;
    if (watch) {
      proxy.pool.failover = () => ({ etcd: endpoint!.hosts, prefix: endpoint!.prefix, leader: watch.view?.leader ?? null, 'etcd-epoch': watch.view?.epoch ?? 0, error: watch.error ?? null });
      watch.start();
    }
    closeOnSignals(logger, async () => {
      await watch?.stop();
      etcd?.client.close();
      await proxy.close();
    });
  });
}
