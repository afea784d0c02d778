/**
 * The TLS side of a node (docs/operations.md, "TLS"): the certificate and key PEM files a server
 * presents (read at start and again on SIGHUP, see node-server.ts `reloadTls`), the CA file a
 * client trusts for its own HTTPS requests (proxy → nodes, replica → master), and the plain-HTTP
 * port that only redirects to HTTPS (308, RFC 9110 §15.4.9: method and body are kept).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

/** TLS of a node's server. */
export interface NodeTlsOptions {
  /** PEM certificate file (the server's certificate first, then its chain). */
  certFile: string;
  /** PEM private key file of the certificate. */
  keyFile: string;
  /**
   * A plain HTTP port that answers every request with 308 to the same path over HTTPS (0 = any
   * free port). Absent: the node has no plain HTTP port.
   */
  redirectPort?: number;
  /** Base of the redirect's `Location` (the node's `https://` outside URL); default `https://{Host's name}:{TLS port}`. */
  redirectBase?: string;
}

/** A certificate and key as read from their files, checked to belong together. */
export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint of the (first) certificate, `AB:CD:…` (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint: string;
  /** The certificate's serial number, hex upper-case. */
  serialNumber: string;
  /** Its `notAfter`, as the certificate states it. */
  validTo: string;
}

/** A TLS file that cannot be used; the message names the file and why. */
export class TlsFileError extends Error {}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsFileError(`cannot read the TLS ${what} file ${path}: ${(err as Error).message}`);
  }
}

/**
 * Reads and checks the certificate and key files: both PEM, the key matching the certificate
 * (node's `createSecureContext` refuses a mismatch).
 * @throws TlsFileError naming the file and the problem.
 */
export function readTlsPair(opts: Pick<NodeTlsOptions, 'certFile' | 'keyFile'>): TlsPair {
  const cert = read(opts.certFile, 'certificate');
  const key = read(opts.keyFile, 'key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsFileError(`${opts.certFile} does not hold a PEM certificate: ${(err as Error).message}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new TlsFileError(`${opts.keyFile} is not a usable key for ${opts.certFile}: ${(err as Error).message}`);
  }
  return { cert, key, fingerprint: x509.fingerprint256, serialNumber: x509.serialNumber, validTo: x509.validTo };
}

/**
 * The TLS client context of this node's own HTTPS requests (undici `connect: { secureContext }`):
 * it trusts Node's bundled roots plus the PEM certificates of `caFile` (`--tls-ca`, e.g. the
 * company CA that signed the nodes' certificates). Built once: passing `ca` per connection would
 * parse every root certificate on each TLS handshake (hundreds of ms on a loaded machine).
 * Host names are still checked against each certificate.
 * @throws TlsFileError when the file cannot be read or holds no usable certificate.
 */
export function trustedCaContext(caFile: string): SecureContext {
  const pem = read(caFile, 'CA').toString('utf8');
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new TlsFileError(`${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  try {
    return createSecureContext({ ca: [...rootCertificates, pem] });
  } catch (err) {
    throw new TlsFileError(`${caFile} holds no usable CA certificate: ${(err as Error).message}`);
  }
}

/**
 * The plain HTTP server of {@link NodeTlsOptions.redirectPort}: every request is answered 308 with
 * `Location` = the HTTPS base (`base()`, or `https://{Host's name}:{tlsPort()}`) + the request's
 * path and query, and a JSON `message` saying where to go. Nothing else is served in plain text.
 */
export function createRedirectServer(tlsPort: () => number, base?: string): Server {
  return createServer((req, res) => {
    const location = `${base?.replace(/\/+$/, '') ?? `https://${hostName(req.headers.host)}:${tlsPort()}`}${req.url ?? '/'}`;
    const body = JSON.stringify({ message: `this node serves HTTPS only: use ${location}` });
    req.resume();
    res.writeHead(308, { Location: location, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body);
  });
}

/** The host name of a `Host` header (`[::1]:80` → `[::1]`, `a.example:80` → `a.example`); `localhost` when absent or malformed. */
function hostName(host: string | undefined): string {
  try {
    return host ? new URL(`http://${host}`).host.replace(/:\d+$/, '') : 'localhost';
  } catch {
    return 'localhost';
  }
}
