/** How commands end: an error message and exit status, or a clean stop on SIGINT/SIGTERM. */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { TlsReload } from '@wheelhouse/http';
import { loadSettings } from '../settings/load-settings.js';
import type { Role, RoleSettings } from '../settings/role-schemas.js';
import { SettingsError } from '../settings/settings-error.js';
import { givenFlags } from '../settings/setting-flags.js';
import { loadLdapConfig } from '../settings/ldap-config.js';
import type { LdapConfig } from '@wheelhouse/core';

/** Writes `wheelhouse: message` to stderr and exits with `code` (2: bad usage or settings, 1: the operation failed). */
export function fail(message: string, code = 2): never {
  process.stderr.write(`wheelhouse: ${message}\n`);
  process.exit(code);
}

/**
 * The role's settings from `cmd`'s flags, `process.env` and the config file; on a SettingsError
 * prints `wheelhouse <role>: invalid settings:` with one line per problem and exits 2.
 */
export function settingsOrExit<R extends Role>(role: R, cmd: Command): RoleSettings[R] {
  try {
    return loadSettings(role, { given: givenFlags(cmd), env: process.env });
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    process.stderr.write(`wheelhouse ${role}: ${err.message}\n`);
    process.exit(2);
  }
}

/** The `--ldap-config` file of `role` loaded and checked (ldap-config.ts), undefined without one; exits 2 listing its problems. */
export function ldapConfigOrExit(role: Role, path: string | undefined): LdapConfig | undefined {
  if (path === undefined) return undefined;
  try {
    return loadLdapConfig(role, path);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    process.stderr.write(`wheelhouse ${role}: ${err.message}\n`);
    process.exit(2);
  }
}

/** Calls `close` on the first SIGINT/SIGTERM, then exits 0 (1 when closing failed). */
export function closeOnSignals(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down');
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * Awaits a node's `listen()`; a port already in use (EADDRINUSE) or not allowed (EACCES) ends the
 * process with one line (`wheelhouse: cannot listen on HOST:PORT: the port is in use`), exit 1,
 * instead of a stack trace. Other errors propagate.
 */
export async function listenOrExit<T>(listen: () => Promise<T>, host: string, port: number): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // the port of the listen that failed (a node may listen twice: --http-redirect-port)
    const at = (err as { port?: unknown }).port;
    const failedPort = typeof at === 'number' ? at : port;
    if (code === 'EADDRINUSE') fail(`cannot listen on ${host}:${failedPort}: the port is in use by another process`, 1);
    if (code === 'EACCES') fail(`cannot listen on ${host}:${failedPort}: permission denied`, 1);
    throw err;
  }
}

/**
 * On every SIGHUP re-reads the node's TLS certificate and key (`reload`): a line at info with the
 * new certificate's serial, fingerprint and expiry, or at error saying why the old one stays.
 */
export function reloadTlsOnSighup(logger: Logger, reload: () => TlsReload): void {
  process.on('SIGHUP', () => {
    const r = reload();
    if (r.ok) logger.info({ serial: r.pair.serialNumber, fingerprint: r.pair.fingerprint, validTo: r.pair.validTo }, 'TLS certificate reloaded');
    else logger.error({ err: r.error.message }, 'TLS certificate reload failed: the old certificate stays in use');
  });
}
