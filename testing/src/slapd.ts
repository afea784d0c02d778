// A throw-away OpenLDAP server for e2e tests and benchmarks (issue 15): Debian's real `slapd`, configured by a
// generated slapd.conf (core, cosine, inetorgperson schemas; one mdb database) in a temp folder,
// loaded offline with `slapadd`, listening only on a loopback port, run in the foreground as the
// current user and stopped with SIGTERM. Readiness: an `ldapsearch` bound as the admin answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { run } from './process-run.js';
import { waitFor } from './wait-for.js';

export const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const LDAPSEARCH = '/usr/bin/ldapsearch';
const SCHEMA_DIR = '/etc/ldap/schema';

/** Why an LDAP test cannot run here, or undefined when slapd and ldap-utils are installed. */
export function slapdMissing(): string | undefined {
  for (const p of [SLAPD, SLAPADD, LDAPSEARCH, join(SCHEMA_DIR, 'inetorgperson.schema')]) {
    if (!existsSync(p)) return `${p} is not installed (apt-get install slapd ldap-utils; .ci/run does)`;
  }
  return undefined;
}

/** A directory user: uid, password, and the groups (groupOfNames `cn`) it is a member of. */
export interface LdapUser {
  readonly uid: string;
  readonly password: string;
  readonly groups: readonly string[];
}

/** The suffix every test directory uses. */
export const SUFFIX = 'dc=example,dc=org';
export const ADMIN_DN = `cn=admin,${SUFFIX}`;
export const PEOPLE = `ou=people,${SUFFIX}`;
export const GROUPS = `ou=groups,${SUFFIX}`;

function ldif(users: readonly LdapUser[]): string {
  const blocks = [
    `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example`,
    `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups`,
    ...users.map((u) => `dn: uid=${u.uid},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: ${u.uid}\ncn: ${u.uid}\nsn: ${u.uid}\nuserPassword: ${u.password}`),
  ];
  const groups = [...new Set(users.flatMap((u) => u.groups))];
  for (const g of groups) {
    const members = users.filter((u) => u.groups.includes(g)).map((u) => `member: uid=${u.uid},${PEOPLE}`);
    blocks.push(`dn: cn=${g},${GROUPS}\nobjectClass: groupOfNames\ncn: ${g}\n${members.join('\n')}`);
  }
  return blocks.join('\n\n') + '\n';
}

/** A running slapd (see module doc). */
export class Slapd {
  private child: ChildProcess | undefined;
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly adminPassword: string,
    /** the ldaps:// port when started with TLS */
    readonly tlsPort?: number,
  ) {}

  /** `ldap://127.0.0.1:<port>/` (StartTLS works on it when started with TLS) */
  get url(): string {
    return `ldap://127.0.0.1:${this.port}/`;
  }

  /** `ldaps://127.0.0.1:<tlsPort>/`; throws when started without TLS. */
  get tlsUrl(): string {
    if (this.tlsPort === undefined) throw new Error('slapd was started without TLS');
    return `ldaps://127.0.0.1:${this.tlsPort}/`;
  }

  /**
   * Writes the configuration and data under `dir`, loads it with slapadd and starts slapd; resolves
   * once it answers. `tls`: PEM files of the server's certificate and key (for 127.0.0.1): slapd
   * then also listens on an ldaps:// port and offers StartTLS.
   */
  static async start(dir: string, users: readonly LdapUser[], adminPassword = 'admin-secret', tls?: { readonly cert: string; readonly key: string }): Promise<Slapd> {
    mkdirSync(join(dir, 'data'), { recursive: true });
    const conf = join(dir, 'slapd.conf');
    writeFileSync(
      conf,
      [
        ...['core', 'cosine', 'inetorgperson'].map((s) => `include ${SCHEMA_DIR}/${s}.schema`),
        `pidfile ${join(dir, 'slapd.pid')}`,
        `argsfile ${join(dir, 'slapd.args')}`,
        ...(tls ? [`TLSCertificateFile ${tls.cert}`, `TLSCertificateKeyFile ${tls.key}`] : []),
        'modulepath /usr/lib/ldap',
        'moduleload back_mdb',
        'database mdb',
        `suffix "${SUFFIX}"`,
        `rootdn "${ADMIN_DN}"`,
        `rootpw ${adminPassword}`,
        `directory ${join(dir, 'data')}`,
        'maxsize 16777216',
        // users bind with their own password; passwords are readable by nobody but the admin
        'access to attrs=userPassword by self =xw by anonymous auth by * none',
        'access to * by * read',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'data.ldif'), ldif(users));
    const loaded = await run(SLAPADD, ['-f', conf, '-l', join(dir, 'data.ldif')], { timeoutMs: 60_000 });
    if (loaded.code !== 0) throw new Error(`slapadd failed: ${loaded.describe()}`);
    const slapd = new Slapd(dir, await freePort(), adminPassword, tls ? await freePort() : undefined);
    await slapd.resume();
    return slapd;
  }

  /** Starts slapd on its port (again) and waits until an admin search answers. */
  async resume(): Promise<void> {
    // -d 0: stay in the foreground (no fork) without debug output; the test owns the process
    const urls = this.tlsPort === undefined ? this.url : `${this.url} ${this.tlsUrl}`;
    const child = spawn(SLAPD, ['-f', join(this.dir, 'slapd.conf'), '-h', urls, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}: ${stderr}`);
        const r = await run(LDAPSEARCH, ['-x', '-H', this.url, '-D', ADMIN_DN, '-w', this.adminPassword, '-b', SUFFIX, '-s', 'base', 'dn'], { timeoutMs: 10_000 });
        return r.code === 0 ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'slapd answering' },
    );
  }

  /** Stops slapd (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
