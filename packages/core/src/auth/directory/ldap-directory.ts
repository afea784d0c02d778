/**
 * The LDAP {@link DirectoryLookup}, with `ldapts` (RFC 4511 client). One check: bind as the service
 * account (or anonymously), search the user's entry under `userSearch.base` with its filter (the
 * `{username}` placeholder replaced by the name escaped per RFC 4515 with ldapts' `Filter.escape`),
 * bind as that entry's DN with the password on a second connection (LDAP's own password check,
 * RFC 4513 §5.1.3), then, as the service account, search the groups with `groupSearch.filter`
 * (`{dn}` = the user's DN, `{username}` = the name; e.g. `(member={dn})` for groupOfNames,
 * `(memberUid={username})` for posixGroup) and take each group's `nameAttribute` (default `cn`).
 * devpi-ldap's `user_search` / `group_search` in the same order.
 *
 * URLs are tried in order; the next one only when a URL cannot be reached. Wrong password → the
 * user bind fails with invalidCredentials (49) → `wrong-password`; zero or several entries →
 * `unknown-user`. Anything else (connection refused, timeout, the service bind refused) rejects:
 * the directory cannot answer.
 */
import type { ConnectionOptions } from 'node:tls';
import { Client, Filter, InvalidCredentialsError, SizeLimitExceededError, type Entry } from 'ldapts';
import type { Logger } from 'pino';
import { UserDirectory, type DirectoryAnswer, type DirectoryLookup } from './user-directory.js';

/** A search in the directory: base DN, filter with placeholders, scope. */
export interface LdapSearch {
  base: string;
  /** RFC 4515 filter; `{username}` (and for groups `{dn}`) are replaced by escaped values. */
  filter: string;
  scope: 'base' | 'one' | 'sub';
}

/** Where and how to ask the directory (durations in ms). The bind password is the file's content, read by the CLI. */
export interface LdapConfig {
  /** `ldap://` or `ldaps://` URLs, tried in order. */
  urls: readonly string[];
  /** The service account's DN; absent = anonymous searches. */
  bindDn?: string;
  bindPassword?: string;
  userSearch: LdapSearch;
  /** Absent = directory users have no groups. */
  groupSearch?: LdapSearch & { nameAttribute: string };
  /** TLS for `ldaps://` and `startTls` (CA bytes read by the CLI; `rejectUnauthorized` default true). */
  tls?: { ca?: Buffer; rejectUnauthorized: boolean; startTls: boolean };
  /** Per LDAP operation, ms. */
  timeoutMs: number;
  /** TCP (and TLS) connect, ms. */
  connectTimeoutMs: number;
  /** How long successful checks and their groups are reused, ms (used by {@link UserDirectory}). */
  cacheMs: number;
}

/** The {@link UserDirectory} of an LDAP config: an {@link LdapDirectory} behind the cache of `config.cacheMs`. */
export function ldapUserDirectory(config: LdapConfig, log?: Logger): UserDirectory {
  log?.info({ directory: config.urls, 'user-base': config.userSearch.base, 'cache-ms': config.cacheMs }, 'LDAP sign-in for users without a local account');
  return new UserDirectory(new LdapDirectory(config), { cacheMs: config.cacheMs, ...(log ? { log } : {}) });
}

/** `template` with each `{name}` replaced by `values[name]` escaped for an LDAP filter (RFC 4515). Pure. */
export function fillFilter(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? Filter.escape(values[name]!) : whole));
}

function firstValue(entry: Entry, attribute: string): string | undefined {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : String(first);
}

/** The ldapts lookup (see module doc). */
export class LdapDirectory implements DirectoryLookup {
  readonly description: string;

  constructor(private readonly config: LdapConfig) {
    this.description = config.urls.join(' ');
  }

  async authenticate(user: string, password: string): Promise<DirectoryAnswer> {
    let lastError: unknown;
    for (const url of this.config.urls) {
      let service: Client;
      try {
        service = await this.connect(url, this.config.bindDn, this.config.bindPassword);
      } catch (err) {
        lastError = err;
        continue;
      }
      try {
        return await this.checkOn(service, url, user, password);
      } finally {
        await service.unbind().catch(() => undefined);
      }
    }
    throw lastError instanceof Error ? lastError : new Error('no LDAP URL configured');
  }

  private async checkOn(service: Client, url: string, user: string, password: string): Promise<DirectoryAnswer> {
    const { userSearch, groupSearch } = this.config;
    let entries: Entry[];
    try {
      ({ searchEntries: entries } = await service.search(userSearch.base, { scope: userSearch.scope, filter: fillFilter(userSearch.filter, { username: user }), attributes: ['1.1'], sizeLimit: 2 }));
    } catch (err) {
      if (err instanceof SizeLimitExceededError) return 'unknown-user';
      throw err;
    }
    if (entries.length !== 1) return 'unknown-user';
    const dn = entries[0]!.dn;
    try {
      const asUser = await this.connect(url, dn, password);
      await asUser.unbind().catch(() => undefined);
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return 'wrong-password';
      throw err;
    }
    if (!groupSearch) return { groups: [] };
    const groups = await service.search(groupSearch.base, {
      scope: groupSearch.scope,
      filter: fillFilter(groupSearch.filter, { username: user, dn }),
      attributes: [groupSearch.nameAttribute],
    });
    const names = groups.searchEntries.map((e) => firstValue(e, groupSearch.nameAttribute)).filter((n): n is string => n !== undefined && n !== '');
    return { groups: [...new Set(names)].sort() };
  }

  /** A client at `url`, bound as `dn` when given (StartTLS first when configured). */
  private async connect(url: string, dn: string | undefined, password: string | undefined): Promise<Client> {
    const tls = this.config.tls;
    const tlsOptions: ConnectionOptions = { rejectUnauthorized: tls?.rejectUnauthorized ?? true, ...(tls?.ca ? { ca: tls.ca } : {}) };
    // ldapts speaks TLS from the first byte whenever tlsOptions are given: only for ldaps:// URLs
    const secure = url.startsWith('ldaps:');
    const client = new Client({ url, timeout: this.config.timeoutMs, connectTimeout: this.config.connectTimeoutMs, ...(secure ? { tlsOptions } : {}), strictDN: false });
    try {
      if (tls?.startTls && url.startsWith('ldap:')) await client.startTLS(tlsOptions);
      if (dn !== undefined) await client.bind(dn, password ?? '');
      return client;
    } catch (err) {
      await client.unbind().catch(() => undefined);
      throw err;
    }
  }
}
