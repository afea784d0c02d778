/**
 * The command-line face of the settings: every setting of every role is a long flag of every
 * server command (`master`, `replica`, `proxy`, `cluster`); the flags of other roles are hidden
 * from `--help` but still parsed, so that load-settings can refuse them by name ("--max-file-bytes
 * does not apply to a replica") together with every other problem, instead of commander stopping at
 * the first unknown option. Unknown flags are collected too.
 */
import { Option, type Command } from 'commander';
import { formatSize, type ValueKind } from './flag-values.js';
import { ROLE_SCHEMAS, settingKeys, type Role } from './role-schemas.js';

/** How a setting is written on the command line. */
interface FlagSpec {
  /** Value kind (flag-values.ts). */
  kind: ValueKind;
  /** Placeholder of the flag's value; absent for a boolean switch. */
  value?: string;
  /** A boolean that defaults to true: the flag is `--no-<key>`. */
  negated?: true;
}

/** Every setting key of every role, with its flag form. */
export const SETTING_FLAGS: Readonly<Record<string, FlagSpec>> = {
  datadir: { kind: 'string', value: '<dir>' },
  host: { kind: 'string', value: '<host>' },
  port: { kind: 'integer', value: '<port>' },
  'secret-file': { kind: 'string', value: '<file>' },
  'outside-url': { kind: 'string', value: '<url>' },
  'max-file-bytes': { kind: 'size', value: '<size>' },
  'sync-commits': { kind: 'boolean', negated: true },
  offline: { kind: 'boolean' },
  'restrict-user-creation': { kind: 'boolean' },
  'mirror-timeout': { kind: 'duration', value: '<duration>' },
  'log-level': { kind: 'string', value: '<level>' },
  'master-url': { kind: 'string', value: '<url>' },
  'max-lag-serials': { kind: 'integer', value: '<n>' },
  'follow-new-master': { kind: 'boolean' },
  'write-wait': { kind: 'duration', value: '<duration>' },
  master: { kind: 'string', value: '<url>' },
  replica: { kind: 'list', value: '<url>' },
  'read-your-writes-wait': { kind: 'duration', value: '<duration>' },
  'gc-interval': { kind: 'duration', value: '<duration>' },
  'gc-grace': { kind: 'duration', value: '<duration>' },
  'gc-replica-expiry': { kind: 'duration', value: '<duration>' },
  'cleanup-interval': { kind: 'duration', value: '<duration>' },
  'tls-cert': { kind: 'string', value: '<file>' },
  'tls-key': { kind: 'string', value: '<file>' },
  'http-redirect-port': { kind: 'integer', value: '<port>' },
  'tls-ca': { kind: 'string', value: '<file>' },
  'ldap-config': { kind: 'string', value: '<file>' },
  'sync-replicas': { kind: 'integer', value: '<n>' },
  'sync-timeout': { kind: 'duration', value: '<duration>' },
  'sync-degrade': { kind: 'boolean' },
  etcd: { kind: 'list', value: '<url>' },
  failover: { kind: 'boolean' },
  'etcd-prefix': { kind: 'string', value: '<prefix>' },
  'etcd-lease-ttl': { kind: 'duration', value: '<duration>' },
  'node-url': { kind: 'string', value: '<url>' },
};

/** What a server command was given on its command line. */
export interface GivenFlags {
  /** Setting key → value as commander parsed it (a string, `true`/`false` for switches, string[] for lists). */
  flags: Record<string, unknown>;
  /** `--config FILE`, when given. */
  config?: string;
  /** Arguments commander did not know (unknown flags and their values, stray words), in order. */
  unknown: string[];
}

function helpText(role: Role, key: string, spec: FlagSpec): string {
  const prop = (ROLE_SCHEMAS[role].properties as Record<string, { description?: string; default?: unknown }>)[key];
  const dflt = prop?.default;
  const shown = dflt === undefined || typeof dflt === 'boolean' || (Array.isArray(dflt) && dflt.length === 0) ? '' : ` (default ${spec.kind === 'size' ? formatSize(Number(dflt)) : String(dflt)})`;
  return `${spec.negated ? 'do not ' : ''}${prop?.description ?? ''}${shown}`;
}

function flagOption(role: Role, key: string, spec: FlagSpec, applies: boolean): Option {
  const name = spec.negated ? `--no-${key}` : `--${key}`;
  const option = new Option(spec.value ? `${name} ${spec.value}` : name, applies ? helpText(role, key, spec) : '');
  if (spec.kind === 'list') option.argParser((v: string, acc: string[] | undefined) => [...(acc ?? []), ...v.split(',').filter((x) => x !== '')]);
  return applies ? option : option.hideHelp();
}

/**
 * Adds every setting flag to `cmd` (those of other roles hidden) and `--config`, and lets unknown
 * options and stray arguments through for {@link givenFlags} to report. Returns `cmd`.
 */
export function addSettingFlags(cmd: Command, role: Role): Command {
  const own = new Set(settingKeys(role));
  for (const [key, spec] of Object.entries(SETTING_FLAGS)) cmd.addOption(flagOption(role, key, spec, own.has(key)));
  cmd.option('--config <file>', 'JSON file with any of these settings (keys named like the flags)');
  return cmd.allowUnknownOption().allowExcessArguments();
}

/** The setting flags given on `cmd`'s command line (not commander defaults), `--config`, and what commander did not know. */
export function givenFlags(cmd: Command): GivenFlags {
  const opts = cmd.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  for (const option of cmd.options) {
    const attr = option.attributeName();
    if (attr === 'config' || cmd.getOptionValueSource(attr) !== 'cli') continue;
    flags[option.long!.replace(/^--(no-)?/, '')] = opts[attr];
  }
  const config = cmd.getOptionValueSource('config') === 'cli' ? (opts['config'] as string) : undefined;
  return { flags, ...(config !== undefined ? { config } : {}), unknown: [...cmd.args] };
}
