/**
 * Loads one role's settings, validated once at the edge. Sources, in increasing precedence: the
 * schema's defaults, the JSON config file (`--config FILE` or `WHEELHOUSE_CONFIG`, keys named like
 * the long flags), `WHEELHOUSE_*` environment variables (`WHEELHOUSE_MAX_FILE_BYTES`; only the
 * role's own keys are read), flags. Text values are parsed by kind (flag-values.ts), then the
 * role's schema (role-schemas.ts, compiled once with the shared ajv) checks types and ranges.
 * Unknown flags, flags or config keys of another role, bad values and missing required settings
 * are all collected and thrown together as one SettingsError.
 */
import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ajv } from '@wheelhouse/core';
import { parseValue, ValueError } from './flag-values.js';
import { ROLE_SCHEMAS, settingKeys, type Role, type RoleSettings } from './role-schemas.js';
import { SettingsError } from './settings-error.js';
import { SETTING_FLAGS, type GivenFlags } from './setting-flags.js';

const VALIDATORS: Record<Role, ValidateFunction> = {
  master: ajv.compile(ROLE_SCHEMAS.master),
  replica: ajv.compile(ROLE_SCHEMAS.replica),
  proxy: ajv.compile(ROLE_SCHEMAS.proxy),
  cluster: ajv.compile(ROLE_SCHEMAS.cluster),
};

/** Where the settings come from besides the defaults. */
export interface SettingsSources {
  /** What the command line held (setting-flags.ts `givenFlags`). */
  given: GivenFlags;
  /** Environment; default none (pass `process.env` at the edge). */
  env?: NodeJS.ProcessEnv;
  /** Reads the config file as text; default `readFileSync(path, 'utf8')`. */
  readConfig?: (path: string) => string;
}

/** `WHEELHOUSE_MAX_FILE_BYTES` for `max-file-bytes`. */
export function envName(key: string): string {
  return `WHEELHOUSE_${key.toUpperCase().replace(/-/g, '_')}`;
}

function flagName(key: string): string {
  return SETTING_FLAGS[key]?.negated ? `--no-${key}` : `--${key}`;
}

function unknownArguments(args: readonly string[]): string[] {
  const problems: string[] = [];
  let afterUnknownFlag = false;
  for (const arg of args) {
    if (arg.startsWith('-')) {
      problems.push(`unknown flag ${arg.split('=')[0]}`);
      afterUnknownFlag = !arg.includes('=');
    } else if (afterUnknownFlag) {
      afterUnknownFlag = false;
    } else {
      problems.push(`unexpected argument '${arg}'`);
    }
  }
  return problems;
}

function readConfigFile(path: string, read: (path: string) => string, problems: string[]): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(read(path));
  } catch (err) {
    problems.push(`cannot read config file ${path}: ${(err as Error).message}`);
    return {};
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  problems.push(`config file ${path} must hold a JSON object`);
  return {};
}

/** ` (from WHEELHOUSE_PORT)` / ` (from config file F)` when a value did not come from a flag. */
function fromWhere(origin: string | undefined): string {
  return origin && origin !== 'flag' ? ` (from ${origin})` : '';
}

/** What an ajv error says about a setting, for people: `--port must be <= 65535, not 70000`. */
function describeError(e: ErrorObject, values: Record<string, unknown>, origin: Record<string, string>): { key: string; text: string } {
  if (e.keyword === 'required') {
    const key = String(e.params['missingProperty']);
    return { key, text: `${flagName(key)} is required` };
  }
  if (e.keyword === 'dependencies') {
    const key = String(e.params['property']);
    return { key, text: `${flagName(key)}${fromWhere(origin[key])} needs ${flagName(String(e.params['missingProperty']))} too` };
  }
  const [key = '', index] = e.instancePath.split('/').slice(1);
  const what =
    e.keyword === 'pattern' ? (String(e.params['pattern']).startsWith('^https?') ? 'must be an http(s) URL' : `must match ${String(e.params['pattern'])}`)
    : e.keyword === 'enum' ? `must be one of ${(e.params['allowedValues'] as unknown[]).join(', ')}`
    : (e.message ?? 'is invalid');
  if (index === undefined) return { key, text: `${flagName(key)}${fromWhere(origin[key])} ${what}, not ${JSON.stringify(values[key])}` };
  const item = (values[key] as unknown[])[Number(index)];
  return { key, text: `${flagName(key)} ${JSON.stringify(item)}${fromWhere(origin[key])} ${what}` };
}

/** Raw values by setting key, each with where it came from (`flag`, `WHEELHOUSE_PORT`, `config file F`). */
interface Gathered {
  raw: Record<string, unknown>;
  origin: Record<string, string>;
}

/** Takes the role's own keys from config file, environment and flags (later wins); refuses the rest into `problems`. */
function gather(role: Role, sources: SettingsSources, problems: string[]): Gathered {
  const env = sources.env ?? {};
  const own = new Set(settingKeys(role));
  const { raw, origin }: Gathered = { raw: {}, origin: {} };
  const configPath = sources.given.config ?? (env['WHEELHOUSE_CONFIG'] || undefined);
  if (configPath !== undefined) {
    const file = readConfigFile(configPath, sources.readConfig ?? ((p) => readFileSync(p, 'utf8')), problems);
    for (const [key, value] of Object.entries(file)) {
      if (own.has(key)) [raw[key], origin[key]] = [value, `config file ${configPath}`];
      else if (key in SETTING_FLAGS) problems.push(`${key} (in config file ${configPath}) does not apply to a ${role}`);
      else problems.push(`unknown setting '${key}' in config file ${configPath}`);
    }
  }
  for (const key of own) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') [raw[key], origin[key]] = [value, envName(key)];
  }
  for (const [key, value] of Object.entries(sources.given.flags)) {
    if (own.has(key)) [raw[key], origin[key]] = [value, 'flag'];
    else problems.push(`${flagName(key)} does not apply to a ${role}`);
  }
  return { raw, origin };
}

/**
 * Merges and validates `role`'s settings (see module doc). Returns them typed by the role's
 * schema; throws SettingsError listing every problem.
 */
export function loadSettings<R extends Role>(role: R, sources: SettingsSources): RoleSettings[R] {
  const problems = unknownArguments(sources.given.unknown);
  const { raw, origin } = gather(role, sources, problems);
  const values: Record<string, unknown> = {};
  const unparsed = new Set<string>();
  for (const [key, value] of Object.entries(raw)) {
    try {
      values[key] = parseValue(SETTING_FLAGS[key]?.kind ?? 'string', value);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      unparsed.add(key);
      problems.push(`${flagName(key)}${fromWhere(origin[key])} ${err.message}`);
    }
  }
  const properties = ROLE_SCHEMAS[role].properties as Record<string, { default?: unknown }>;
  for (const [key, prop] of Object.entries(properties)) {
    if (values[key] === undefined && prop.default !== undefined && !unparsed.has(key)) values[key] = structuredClone(prop.default);
  }
  const validate = VALIDATORS[role];
  if (!validate(values)) {
    for (const e of validate.errors ?? []) {
      const { key, text } = describeError(e, values, origin);
      if (!unparsed.has(key)) problems.push(text);
    }
  }
  if (problems.length) throw new SettingsError(role, problems);
  return values as RoleSettings[R];
}
