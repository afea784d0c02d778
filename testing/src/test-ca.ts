// A throw-away certificate authority for TLS tests, made with Debian's `openssl` (the real tool
// operators use): a self-signed CA, and server certificates it signs for 127.0.0.1 and localhost
// (subjectAltName IP:127.0.0.1, DNS:localhost — what pip, twine and Node check). Every file lives
// in the directory given; nothing is installed system-wide.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process-run.js';

/** A CA's files. */
export interface TestCa {
  /** The CA certificate (PEM): `pip --cert`, `twine --cert`, `--tls-ca`. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly dir: string;
}

/** A server certificate's files. */
export interface ServerCert {
  readonly certFile: string;
  readonly keyFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await run('openssl', args, { timeoutMs: 60_000, cwd });
  if (r.code !== 0) throw new Error(`openssl failed: ${r.describe()}`);
}

/** Makes a CA (`<dir>/ca.pem`, `<dir>/ca.key`; `dir` created if missing), EC P-256 keys, valid 2 days. */
export async function makeTestCa(dir: string, name = 'Wheelhouse Test CA'): Promise<TestCa> {
  await mkdir(dir, { recursive: true });
  const certFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'ca.key');
  await openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return { certFile, keyFile, dir };
}

/**
 * Issues a server certificate signed by `ca` for IP 127.0.0.1 and DNS localhost:
 * `<dir>/<name>.pem` and `<dir>/<name>.key` (a fresh key and a random serial on every call).
 */
export async function issueServerCert(ca: TestCa, name: string): Promise<ServerCert> {
  const certFile = join(ca.dir, `${name}.pem`);
  const keyFile = join(ca.dir, `${name}.key`);
  const csr = join(ca.dir, `${name}.csr`);
  const ext = join(ca.dir, `${name}.ext`);
  // key identifiers as real CAs issue them (strict verifiers, e.g. Python 3.13's ssl, require them)
  await writeFile(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n');
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`], ca.dir);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', `0x${randomSerial()}`, '-days', '2', '-extfile', ext, '-out', certFile], ca.dir);
  return { certFile, keyFile };
}

/** 16 random bytes as hex, the top bit clear (a positive serial, RFC 5280 §4.1.2.2). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f | 0x10;
  return bytes.toString('hex');
}
