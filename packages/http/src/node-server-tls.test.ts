import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { readFileSync } from 'node:fs';
import { issueServerCert, makeTestCa, type ServerCert, type TestCa } from '@wheelhouse/testing';
import { createNodeServer } from './node-server.js';
import { TlsFileError } from './tls-files.js';

let dir: string;
let ca: TestCa;
let first: ServerCert;
let second: ServerCert;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wh-tls-'));
  ca = await makeTestCa(dir);
  first = await issueServerCert(ca, 'first');
  second = await issueServerCert(ca, 'second');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The certificate a fresh TLS connection to `port` is shown (verified against the test CA). */
function peerCertificate(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(ca.certFile) }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}

/** Sends `raw` over TLS and resolves with all the server wrote until it closed or `until` matched. */
function rawTls(port: number, raw: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(ca.certFile) }, () => socket.write(raw));
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (until.test(got)) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(got));
  });
}

async function tlsFiles(cert: ServerCert): Promise<{ certFile: string; keyFile: string }> {
  const sub = await mkdtemp(join(dir, 'live-'));
  const files = { certFile: join(sub, 'server.pem'), keyFile: join(sub, 'server.key') };
  await copyFile(cert.certFile, files.certFile);
  await copyFile(cert.keyFile, files.keyFile);
  return files;
}

test('with tls the node serves HTTPS a client trusting the CA accepts, and its URL says https', async () => {
  const node = createNodeServer({ host: '127.0.0.1', port: 0, tls: await tlsFiles(first), handler: (req, res) => res.end(`${req.method} ${(req.socket as { encrypted?: boolean }).encrypted === true}`) });
  const { port, url } = await node.listen();
  try {
    assert.equal(url, `https://127.0.0.1:${port}`);
    const body = await new Promise<string>((resolve, reject) => {
      httpsRequest(`${url}/x`, { ca: readFileSync(ca.certFile) }, (res) => {
        let t = '';
        res.on('data', (d: Buffer) => (t += d.toString()));
        res.on('end', () => resolve(t));
      }).once('error', reject).end();
    });
    assert.equal(body, 'GET true');
    // a client that does not trust the CA refuses the certificate
    await assert.rejects(
      new Promise((resolve, reject) => httpsRequest(`${url}/x`, resolve).once('error', reject).end()),
      /self-signed certificate in certificate chain|unable to verify|unable to get local issuer/,
    );
  } finally {
    await node.close();
  }
});

test("devpi-client's PUSH method still works over TLS (seen as POST on an encrypted socket)", async () => {
  const seen: string[] = [];
  const node = createNodeServer({
    host: '127.0.0.1',
    port: 0,
    tls: await tlsFiles(first),
    handler: (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body} ${(req.socket as { encrypted?: boolean }).encrypted === true}`);
        res.end('pushed');
      });
    },
  });
  const { port } = await node.listen();
  try {
    const answer = await rawTls(port, 'PUSH /u/i HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}', /pushed$/);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.deepEqual(seen, ['POST /u/i {} true']);
  } finally {
    await node.close();
  }
});

test('reloadTls presents a new certificate to new connections; a broken file keeps the old one', async () => {
  const files = await tlsFiles(first);
  const node = createNodeServer({ host: '127.0.0.1', port: 0, tls: files, handler: (_req, res) => res.end('ok') });
  const { port } = await node.listen();
  try {
    const firstSerial = node.tls?.serialNumber;
    assert.equal((await peerCertificate(port)).serialNumber, firstSerial);
    await copyFile(second.certFile, files.certFile);
    await copyFile(second.keyFile, files.keyFile);
    const reload = node.reloadTls();
    assert.ok(reload.ok, reload.ok ? '' : reload.error.message);
    assert.notEqual(reload.pair.serialNumber, firstSerial);
    assert.equal((await peerCertificate(port)).serialNumber, reload.pair.serialNumber);
    assert.equal((await peerCertificate(port)).fingerprint256, reload.pair.fingerprint);
    // a key that does not match the certificate: refused, the second certificate stays
    await copyFile(first.keyFile, files.keyFile);
    const bad = node.reloadTls();
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error.message, /server\.key is not a usable key for .*server\.pem/);
    await writeFile(files.certFile, 'not a certificate');
    const worse = node.reloadTls();
    assert.match(worse.ok ? '' : worse.error.message, /does not hold a PEM certificate/);
    assert.equal((await peerCertificate(port)).serialNumber, reload.pair.serialNumber);
    assert.equal(node.tls?.serialNumber, reload.pair.serialNumber);
  } finally {
    await node.close();
  }
});

test('the redirect port answers every request 308 to the same path over HTTPS', async () => {
  const node = createNodeServer({ host: '127.0.0.1', port: 0, tls: { ...(await tlsFiles(first)), redirectPort: 0 }, handler: (_req, res) => res.end('ok') });
  const { port, redirectPort } = await node.listen();
  try {
    assert.ok(redirectPort !== undefined && redirectPort > 0);
    for (const method of ['GET', 'POST']) {
      const res = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port: redirectPort, method, path: '/root/pypi/+simple/?x=1', headers: { host: `localhost:${redirectPort}` } }, (r) => {
          r.resume();
          resolve({ status: r.statusCode ?? 0, location: r.headers.location });
        }).once('error', reject).end();
      });
      assert.deepEqual(res, { status: 308, location: `https://localhost:${port}/root/pypi/+simple/?x=1` });
    }
  } finally {
    await node.close();
  }
});

test('a key that does not belong to the certificate is refused at start, naming the files', async () => {
  const files = await tlsFiles(first);
  await copyFile(second.keyFile, files.keyFile);
  assert.throws(() => createNodeServer({ host: '127.0.0.1', port: 0, tls: files, handler: () => undefined }), (err: unknown) => err instanceof TlsFileError && /is not a usable key/.test(err.message));
  assert.throws(() => createNodeServer({ host: '127.0.0.1', port: 0, tls: { ...files, certFile: join(dir, 'missing.pem') }, handler: () => undefined }), /cannot read the TLS certificate file .*missing\.pem/);
});
