/**
 * `node bench/dist/ldap-bench.js [checks]`: what signing in costs (issue 15), a program apart from
 * `npm run bench`'s parts. Starts Debian's slapd on a loopback port (`@wheelhouse/testing`'s
 * Slapd: 200 users in 2 groups) and measures, in this process, `Authenticator.check` for: a
 * directory user against slapd (cache off: service bind, search, user bind, group search, on two
 * fresh connections), the same from the cache, a directory token, and for reference a local user's
 * password (argon2 the first time, then VerificationCache) and token — sequentially and with 8 in
 * parallel. Prints a table: checks/s and latency p50/p99 (ms), with machine, load and date.
 * Without slapd it prints why and exits 0.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Changelog } from '@wheelhouse/changelog';
import { Authenticator, createUser, hashPassword, LdapDirectory, TokenSigner, UserDirectory, type LdapConfig } from '@wheelhouse/core';
import { ADMIN_DN, GROUPS, PEOPLE, Slapd, slapdMissing } from '@wheelhouse/testing';

const checks = Number(process.argv[2] ?? 400);
const missing = slapdMissing();
if (missing) {
  process.stdout.write(`ldap bench skipped: ${missing}\n`);
  process.exit(0);
}

const dir = await mkdtemp(join(tmpdir(), 'wh-ldap-bench-'));
const users = Array.from({ length: 200 }, (_, i) => ({ uid: `user${i}`, password: `pw-${i}`, groups: i % 2 ? ['odd', 'all'] : ['all'] }));
const slapd = await Slapd.start(join(dir, 'slapd'), users);
const config: LdapConfig = {
  urls: [slapd.url],
  bindDn: ADMIN_DN,
  bindPassword: slapd.adminPassword,
  userSearch: { base: PEOPLE, filter: '(uid={username})', scope: 'sub' },
  groupSearch: { base: GROUPS, filter: '(member={dn})', scope: 'sub', nameAttribute: 'cn' },
  timeoutMs: 5_000,
  connectTimeoutMs: 3_000,
  cacheMs: 0,
};
const changelog = await Changelog.openInMemory();
const localHash = await hashPassword('local-pw');
await changelog.write((tx) => createUser(tx, 'alice', { pwhash: localHash }));
const signer = new TokenSigner(Buffer.alloc(32, 5));
const uncached = new Authenticator(changelog, signer, undefined, undefined, new UserDirectory(new LdapDirectory(config), { cacheMs: 0 }));
const cached = new Authenticator(changelog, signer, undefined, undefined, new UserDirectory(new LdapDirectory(config), { cacheMs: 600_000 }));
const user0 = (await uncached.authenticate({ user: 'user1', secret: 'pw-1' })).user!;
const directoryToken = uncached.issueToken(user0);
const localToken = uncached.issueToken('alice');

/** Runs `n` checks with `parallel` in flight; asserts each succeeds. Returns checks/s and latencies (ms). */
async function measure(n: number, parallel: number, check: (i: number) => Promise<string | undefined>): Promise<{ rate: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        const who = await check(i);
        latencies.push(performance.now() - s);
        if (who === undefined) throw new Error(`check ${i} refused`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { rate: n / seconds, p50: at(0.5), p99: at(0.99) };
}

const cases: Array<[string, number, (i: number) => Promise<string | undefined>]> = [
  ['directory password, no cache (slapd, 2 connections)', checks, (i) => uncached.check({ user: `user${i % 200}`, secret: `pw-${i % 200}` })],
  ['directory password, cached', checks * 10, (i) => cached.check({ user: `user${i % 200}`, secret: `pw-${i % 200}` })],
  ['directory login token', checks * 10, () => uncached.check({ user: 'user1', secret: directoryToken })],
  ['local password (argon2 once, then cached)', checks * 10, () => uncached.check({ user: 'alice', secret: 'local-pw' })],
  ['local login token', checks * 10, () => uncached.check({ user: 'alice', secret: localToken })],
];
// warm the cache of `cached` so its row measures hits
await measure(200, 8, (i) => cached.check({ user: `user${i}`, secret: `pw-${i}` }));
const rows: string[] = [];
for (const [name, n, check] of cases) {
  const one = await measure(n, 1, check);
  const eight = await measure(n, 8, check);
  const f = (m: { rate: number; p50: number; p99: number }): string => `${m.rate.toFixed(0)} /s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms`;
  rows.push(`| ${name} | ${n} | ${f(one)} | ${f(eight)} |`);
}
process.stdout.write(
  `## Sign-in cost (${new Date().toISOString()}, ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, slapd on loopback, 200 users)\n\n` +
    '| check | checks | 1 at a time | 8 in parallel |\n|---|---|---|---|\n' +
    rows.join('\n') +
    '\n',
);
await slapd.stop();
await changelog.close();
await rm(dir, { recursive: true, force: true });
