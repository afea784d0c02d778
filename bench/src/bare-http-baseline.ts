/**
 * Starts bench/dist/bare-http-server.js on `body` in a child process, loads it like the real
 * endpoints, and stops it: the same-conditions ceiling for a page of those bytes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { runLoad, type LoadOutcome, type LoadSettings } from './load-run.js';
import { cpuSeconds } from '@wheelhouse/testing';

const script = fileURLToPath(new URL('./bare-http-server.js', import.meta.url));

/** Fetches `url` and loads a bare node:http server that answers with the same body. */
export async function bareHttpBaseline(url: string, settings: LoadSettings): Promise<LoadOutcome> {
  const res = await request(url);
  const body = Buffer.from(await res.body.arrayBuffer());
  const contentType = String(res.headers['content-type'] ?? 'text/html');
  const dir = mkdtempSync(join(tmpdir(), 'wh-bench-bare-'));
  const file = join(dir, 'body');
  writeFileSync(file, body);
  const child = spawn(process.execPath, [script, file, contentType], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      child.once('exit', (code) => reject(new Error(`bare node:http server exited (${String(code)})`)));
      setTimeout(() => reject(new Error('bare node:http server did not start in 10 s')), 10_000).unref();
    });
    const probe = { rssBytes: async (): Promise<number | undefined> => undefined, cpuSeconds: () => cpuSeconds(child.pid) };
    return await runLoad({ label: `calibration: bare \`node:http\` handler, same bytes as the HTML simple page`, url: `http://127.0.0.1:${port}/` }, settings, probe);
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
