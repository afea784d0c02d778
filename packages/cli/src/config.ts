/**
 * Start-up configuration: defaults, then a JSON config file (`--config FILE`, keys named like the
 * long flags), then `WHEELHOUSE_*` environment variables, then flags — validated once with ajv; a
 * failure lists every problem at once.
 */
import { readFileSync } from 'node:fs';
import { ajv, describeErrors } from '@wheelhouse/core';

/** A node's settings (master or replica). */
export interface MasterSettings {
  datadir: string;
  host: string;
  port: number;
  'secret-file'?: string;
  'outside-url'?: string;
  /** bytes */
  'max-file-bytes': number;
  /** fsync every commit */
  'sync-commits': boolean;
  'log-level': 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** replica: the master's URL */
  'master-url'?: string;
  /** replica: readiness bound, serials behind the master */
  'max-lag-serials'?: number;
  /** master: mirror indexes serve only what is cached */
  offline?: boolean;
}

const DEFAULTS = { host: '127.0.0.1', port: 3141, 'max-file-bytes': 1024 ** 3, 'sync-commits': true, 'log-level': 'info' } as const;

const validateSettings = ajv.compile({
  type: 'object',
  required: ['datadir', 'host', 'port'],
  properties: {
    datadir: { type: 'string', minLength: 1 },
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    'secret-file': { type: 'string', minLength: 1 },
    'outside-url': { type: 'string', pattern: '^https?://' },
    'max-file-bytes': { type: 'integer', minimum: 1 },
    'sync-commits': { type: 'boolean' },
    'log-level': { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    'master-url': { type: 'string', pattern: '^https?://' },
    'max-lag-serials': { type: 'integer', minimum: 0 },
    offline: { type: 'boolean' },
    config: { type: 'string' },
  },
  additionalProperties: false,
});

/** A configuration problem (the CLI prints it and exits 2). */
export class ConfigError extends Error {}

/** Every setting, by its flag name (`--datadir` ↔ `WHEELHOUSE_DATADIR`). */
const SETTING_KEYS = ['datadir', 'host', 'port', 'secret-file', 'outside-url', 'max-file-bytes', 'sync-commits', 'log-level', 'master-url', 'max-lag-serials', 'offline'];
const NUMERIC = new Set(['port', 'max-file-bytes', 'max-lag-serials']);
const BOOLEAN = new Set(['sync-commits', 'offline']);

/** Converts a string (env or flag) to the setting's type, leaving bad values for the schema to report. */
function coerce(key: string, value: string): unknown {
  if (NUMERIC.has(key)) return /^\d+$/.test(value) ? Number(value) : value;
  if (BOOLEAN.has(key)) return value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
  return value;
}

/**
 * Merges the sources (see module doc) and validates them. `flags` holds only what was given on the
 * command line (kebab-case keys). Throws ConfigError listing every problem.
 */
export function resolveSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, required: string[] = []): MasterSettings {
  const merged: Record<string, unknown> = { ...DEFAULTS };
  const configPath = (flags['config'] as string | undefined) ?? env['WHEELHOUSE_CONFIG'];
  if (configPath) {
    let fromFile: unknown;
    try {
      fromFile = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read config file ${configPath}: ${(err as Error).message}`);
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) throw new ConfigError(`config file ${configPath} must hold a JSON object`);
    Object.assign(merged, fromFile);
  }
  for (const key of SETTING_KEYS) {
    const v = env[`WHEELHOUSE_${key.toUpperCase().replace(/-/g, '_')}`];
    if (v !== undefined && v !== '') merged[key] = coerce(key, v);
  }
  for (const [k, v] of Object.entries(flags)) {
    if (v !== undefined && k !== 'config') merged[k] = typeof v === 'string' ? coerce(k, v) : v;
  }
  const problems: string[] = [];
  if (!validateSettings(merged)) problems.push(describeErrors(validateSettings.errors, 'settings'));
  for (const key of required) if (merged[key] === undefined) problems.push(`--${key} is required`);
  if (problems.length) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return merged as unknown as MasterSettings;
}
