/**
 * Systemd units (what `wheelhouse gen-config` writes) for running the same topology as `docker-compose.yml`
 * without containers — host A: master + replica, host B: replica, and the proxy — see
 * docs/deployment.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Options of {@link writeSystemdUnits}. */
export interface GenConfigOptions {
  /** Where to write the unit files. */
  out: string;
  /** Install directory of Wheelhouse (holds bin/wheelhouse). */
  installDir: string;
  /** Data directory root on each host (`<root>/master`, `<root>/replica`). */
  dataRoot: string;
  /** The master's URL as replicas and the proxy reach it. */
  masterUrl: string;
  /** Replica URLs the proxy balances over. */
  replicaUrls: string[];
  /** The secret file shared by all nodes. */
  secretFile: string;
  /** URL clients use (the proxy). */
  outsideUrl: string;
  user: string;
}

function unit(description: string, exec: string, opts: GenConfigOptions): string {
  return `[Unit]
Description=${description}
After=network-online.target
Wants=network-online.target

[Service]
User=${opts.user}
ExecStart=/usr/bin/env node ${join(opts.installDir, 'bin/wheelhouse')} ${exec}
Restart=always
RestartSec=2
LimitNOFILE=65536
NoNewPrivileges=true

[Install]
WantedBy=multi-user.target
`;
}

/** Writes the unit files; returns their paths. */
export async function writeSystemdUnits(opts: GenConfigOptions): Promise<string[]> {
  await mkdir(opts.out, { recursive: true });
  const port = (u: string): string => new URL(u).port || '80';
  const units: Record<string, string> = {
    'wheelhouse-master.service': unit(
      'Wheelhouse master (host A)',
      `master --datadir ${join(opts.dataRoot, 'master')} --host 0.0.0.0 --port ${port(opts.masterUrl)} --secret-file ${opts.secretFile} --outside-url ${opts.outsideUrl}`,
      opts,
    ),
    'wheelhouse-replica.service': unit(
      'Wheelhouse replica (hosts A and B)',
      `replica --datadir ${join(opts.dataRoot, 'replica')} --host 0.0.0.0 --port ${port(opts.replicaUrls[0] ?? 'http://x:3142')} --master-url ${opts.masterUrl} --secret-file ${opts.secretFile} --outside-url ${opts.outsideUrl}`,
      opts,
    ),
    'wheelhouse-proxy.service': unit(
      'Wheelhouse proxy',
      `proxy --host 0.0.0.0 --port ${port(opts.outsideUrl)} --master ${opts.masterUrl} ${opts.replicaUrls.map((r) => `--replica ${r}`).join(' ')} --outside-url ${opts.outsideUrl}`,
      opts,
    ),
  };
  const written: string[] = [];
  for (const [name, text] of Object.entries(units)) {
    const path = resolve(opts.out, name);
    await writeFile(path, text);
    written.push(path);
  }
  return written;
}
