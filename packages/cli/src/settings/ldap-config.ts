/**
 * The LDAP configuration file of `--ldap-config FILE` (master and replica; issue 15): JSON, keys
 * named like flags, checked once at start against {@link ldapConfigFileSchema} (TypeBox, the
 * shared ajv) with every problem listed at once. Durations are ms or a text with a unit (`5s`, as
 * the duration flags). Secrets never sit in the file: the service account's password is read from
 * `bind-password-file` (and the CA from `tls.ca-file`); relative paths are relative to the
 * configuration file's folder. The result is core's {@link LdapConfig}.
 *
 * ```json
 * { "url": "ldap://ldap.example.org:389",
 *   "bind-dn": "cn=wheelhouse,ou=services,dc=example,dc=org", "bind-password-file": "ldap-password",
 *   "user-search": { "base": "ou=people,dc=example,dc=org", "filter": "(uid={username})" },
 *   "group-search": { "base": "ou=groups,dc=example,dc=org", "filter": "(member={dn})" },
 *   "tls": { "ca-file": "ca.pem" }, "timeout": "5s", "cache-time": "5m" }
 * ```
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { ajv, type LdapConfig, type LdapSearch } from '@wheelhouse/core';
import { parseDuration, ValueError } from './flag-values.js';
import { SettingsError } from './settings-error.js';
import type { Role } from './role-schemas.js';

const LDAP_URL = '^ldaps?://[^\\s/?#]+/?$';
const duration = (description: string) => Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })], { description });
const scope = Type.Union([Type.Literal('base'), Type.Literal('one'), Type.Literal('sub')], { description: 'search scope (default sub)' });
const search = (filterHelp: string) =>
  Type.Object(
    {
      base: Type.String({ minLength: 1, description: 'base DN of the search' }),
      filter: Type.String({ minLength: 3, pattern: '^\\(.*\\)$', description: filterHelp }),
      scope: Type.Optional(scope),
    },
    { additionalProperties: false },
  );

/** The file's schema (see module doc). */
export const ldapConfigFileSchema = Type.Object(
  {
    url: Type.Union([Type.String({ pattern: LDAP_URL }), Type.Array(Type.String({ pattern: LDAP_URL }), { minItems: 1 })], {
      description: 'ldap:// or ldaps:// URL of the directory, or a list tried in order',
    }),
    'bind-dn': Type.Optional(Type.String({ minLength: 1, description: 'DN of the service account that searches (default: anonymous searches)' })),
    'bind-password-file': Type.Optional(Type.String({ minLength: 1, description: "file holding the service account's password (one line)" })),
    'user-search': search('filter finding the user; {username} is replaced, escaped (RFC 4515)'),
    'group-search': Type.Optional(
      Type.Object(
        {
          base: Type.String({ minLength: 1 }),
          filter: Type.String({ minLength: 3, pattern: '^\\(.*\\)$', description: 'filter finding the groups: {dn} the user DN, {username} the name, e.g. (member={dn}) or (memberUid={username})' }),
          scope: Type.Optional(scope),
          'name-attribute': Type.Optional(Type.String({ minLength: 1, description: "the group's name attribute (default cn)" })),
        },
        { additionalProperties: false },
      ),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          'ca-file': Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA(s) to trust' })),
          'reject-unauthorized': Type.Optional(Type.Boolean({ description: 'refuse certificates the CA does not sign (default true)' })),
          'start-tls': Type.Optional(Type.Boolean({ description: 'StartTLS on ldap:// URLs (default false)' })),
        },
        { additionalProperties: false },
      ),
    ),
    timeout: Type.Optional(duration('one LDAP operation: ms or 5s (default 5s)')),
    'connect-timeout': Type.Optional(duration('TCP/TLS connect: ms or 3s (default 3s)')),
    'cache-time': Type.Optional(duration('successful logins and their groups are reused this long: ms or 5m (default 60s; 0 = never)')),
  },
  { additionalProperties: false },
);
/** The file as written. */
export type LdapConfigFile = Static<typeof ldapConfigFileSchema>;

const validateFile = ajv.compile(ldapConfigFileSchema);

/** Defaults, ms. */
export const LDAP_DEFAULTS = { timeoutMs: 5_000, connectTimeoutMs: 3_000, cacheMs: 60_000 } as const;

function describe(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'the file';
  if (e.keyword === 'additionalProperties') return `${where}: unknown key '${String(e.params['additionalProperty'])}'`;
  if (e.keyword === 'required') return `${where}: '${String(e.params['missingProperty'])}' is required`;
  if (e.keyword === 'pattern' && where.startsWith('url')) return `${where} must be an ldap:// or ldaps:// URL (host and port only)`;
  if (e.keyword === 'pattern') return `${where} must be an LDAP filter in parentheses, e.g. (uid={username})`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

/**
 * ajv's errors for people: a union's branches (`url`: a string or a list) report one line — the
 * specific error when a branch got the right type, else `must be string or array`; no repeats.
 */
function schemaProblems(errors: readonly ErrorObject[]): string[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) if (e.keyword !== 'anyOf') byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: string[] = [];
  for (const list of byPath.values()) {
    const specific = list.filter((e) => e.keyword !== 'type');
    if (specific.length) out.push(...specific.map(describe));
    else out.push(`${describe(list[0]!).replace(/ must be .*$/, '')} must be ${list.map((e) => String(e.params['type'])).join(' or ')}`);
  }
  return [...new Set(out)];
}

/**
 * Reads and checks the LDAP configuration file at `path` for `role` (see module doc); `read` reads
 * a file as text (default `readFileSync`). Throws SettingsError listing every problem (bad JSON,
 * schema errors, unreadable password or CA file, a user filter without `{username}`).
 */
export function loadLdapConfig(role: Role, path: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): LdapConfig {
  const where = `--ldap-config ${path}`;
  let text: string;
  let parsed: unknown;
  try {
    text = read(path);
  } catch (err) {
    throw new SettingsError(role, [`${where}: cannot read it: ${(err as Error).message}`]);
  }
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SettingsError(role, [`${where}: cannot read it as JSON: ${(err as Error).message}`]);
  }
  if (!validateFile(parsed)) throw new SettingsError(role, schemaProblems(validateFile.errors ?? []).map((p) => `${where}: ${p}`));
  const file = parsed as LdapConfigFile;
  const problems: string[] = [];
  const near = (p: string) => resolve(dirname(path), p);
  const readSecret = (key: string, p: string): string | undefined => {
    try {
      return read(near(p));
    } catch (err) {
      problems.push(`${where}: cannot read ${key} ${p}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const ms = (key: string, v: number | string | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    if (typeof v === 'number') return v;
    try {
      return parseDuration(v);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push(`${where}: ${key} ${err.message}`);
      return dflt;
    }
  };
  if (!file['user-search'].filter.includes('{username}')) problems.push(`${where}: user-search.filter must contain {username}, e.g. (uid={username})`);
  if (file['bind-dn'] !== undefined && file['bind-password-file'] === undefined) problems.push(`${where}: bind-dn needs bind-password-file`);
  if (file['bind-dn'] === undefined && file['bind-password-file'] !== undefined) problems.push(`${where}: bind-password-file without bind-dn`);
  const password = file['bind-password-file'] !== undefined ? readSecret('bind-password-file', file['bind-password-file'])?.replace(/\r?\n$/, '') : undefined;
  const caFile = file.tls?.['ca-file'];
  const ca = caFile !== undefined ? readSecret('tls.ca-file', caFile) : undefined;
  const searchOf = (s: { base: string; filter: string; scope?: LdapSearch['scope'] }): LdapSearch => ({ base: s.base, filter: s.filter, scope: s.scope ?? 'sub' });
  const group = file['group-search'];
  const config: LdapConfig = {
    urls: typeof file.url === 'string' ? [file.url] : file.url,
    ...(file['bind-dn'] !== undefined ? { bindDn: file['bind-dn'] } : {}),
    ...(password !== undefined ? { bindPassword: password } : {}),
    userSearch: searchOf(file['user-search']),
    ...(group ? { groupSearch: { ...searchOf(group), nameAttribute: group['name-attribute'] ?? 'cn' } } : {}),
    ...(file.tls
      ? { tls: { rejectUnauthorized: file.tls['reject-unauthorized'] ?? true, startTls: file.tls['start-tls'] ?? false, ...(ca !== undefined ? { ca: Buffer.from(ca) } : {}) } }
      : {}),
    timeoutMs: ms('timeout', file.timeout, LDAP_DEFAULTS.timeoutMs),
    connectTimeoutMs: ms('connect-timeout', file['connect-timeout'], LDAP_DEFAULTS.connectTimeoutMs),
    cacheMs: ms('cache-time', file['cache-time'], LDAP_DEFAULTS.cacheMs),
  };
  if (problems.length) throw new SettingsError(role, problems);
  return config;
}
