/**
 * A local upstream index for the mirror benchmark (no internet): PEP 691 JSON project pages with
 * `files` links of made-up hashes (the benchmark never downloads them) and, at `/simple/`, PyPI's
 * full project list as one PEP 503 HTML page streamed from a names file (~880,000 names).
 */
import { sharedDataFile } from '@wheelhouse/testing';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { normalizeProjectName, wheelEscape } from '@wheelhouse/core';

export const PYPI_NAMES_GZ = sharedDataFile('pypi-names.txt.gz');

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A project page like a popular project's: `versions` releases, a wheel and an sdist each. */
function projectPage(name: string, versions: number): string {
  const dist = wheelEscape(name);
  const files = [];
  for (let i = 0; i < versions; i++) {
    const v = `${Math.floor(i / 10)}.${i % 10}.0`;
    for (const filename of [`${dist}-${v}-py3-none-any.whl`, `${dist}-${v}.tar.gz`]) {
      files.push({
        filename,
        url: `../../files/${filename}`,
        hashes: { sha256: createHash('sha256').update(filename).digest('hex') },
        'requires-python': '>=3.8',
        size: 10_000 + i,
        'upload-time': '2024-01-02T03:04:05.000000Z',
      });
    }
  }
  return JSON.stringify({ meta: { 'api-version': '1.1' }, name, files });
}

export class MirrorUpstream {
  /** Times the full list was asked for. */
  listRequests = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(namesFile: string, versionsPerProject: number): Promise<MirrorUpstream> {
    let self: MirrorUpstream | undefined;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path === '/simple/') {
        if (self) self.listRequests++;
        void (async () => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.write('<!DOCTYPE html><html><body>\n');
          const input = createReadStream(namesFile);
          const lines = createInterface({ input: namesFile.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
          let batch = '';
          for await (const line of lines) {
            const n = line.trim();
            if (!n) continue;
            batch += `<a href="/simple/${escapeHtml(normalizeProjectName(n))}/">${escapeHtml(n)}</a>\n`;
            if (batch.length > 64 * 1024) {
              if (!res.write(batch)) await new Promise((r) => res.once('drain', r));
              batch = '';
            }
          }
          res.end(`${batch}</body></html>\n`);
        })();
        return;
      }
      const m = /^\/simple\/([a-z0-9-]+)\/$/.exec(path);
      if (m) {
        const body = projectPage(m[1]!, versionsPerProject);
        res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json', etag: `"${m[1]!}-1"`, 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new MirrorUpstream(server, (server.address() as AddressInfo).port);
    return self;
  }

  get simpleUrl(): string {
    return `http://127.0.0.1:${this.port}/simple/`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
