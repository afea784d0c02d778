/**
 * Uploads release files with the legacy upload API (`:action=file_upload` multipart form, as twine
 * sends it) over a keep-alive undici pool, `concurrency` at a time, stopping at a deadline. Counts
 * files/s over the files that were accepted and keeps every unexpected status.
 */
import { legacyUploadBody } from '@wheelhouse/testing';
import { Pool } from 'undici';
import type { ReleaseFile } from './release-files.js';

export interface UploadOutcome {
  /** Files answered 200. */
  readonly ok: number;
  /** Files answered anything else (or failed at the socket). */
  readonly failed: number;
  /** Files not attempted because the deadline passed. */
  readonly skipped: number;
  readonly seconds: number;
  readonly filesPerSecond: number;
  /** Latency of each accepted upload, ms. */
  readonly latenciesMs: number[];
  /** Unexpected answers, e.g. `401 {"message":...}` → count. */
  readonly errors: Map<string, number>;
}

/** The legacy upload form (`:action=file_upload`) for `file`, as twine sends it. */
export function multipartBody(file: ReleaseFile): { contentType: string; body: Buffer } {
  return legacyUploadBody({ ...file, summary: 'benchmark file', requiresPython: null, sha256Digest: file.sha256 });
}

export interface UploadRun {
  readonly baseUrl: string;
  /** Path of the index, e.g. `/bench/dev/`. */
  readonly indexPath: string;
  /** Authentication headers sent with every upload. */
  readonly authHeaders: Record<string, string>;
  readonly files: readonly ReleaseFile[];
  readonly concurrency: number;
  /** Stop starting uploads after this many ms. */
  readonly budgetMs: number;
}

export async function runUploads(run: UploadRun): Promise<UploadOutcome> {
  const pool = new Pool(run.baseUrl, { connections: run.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  // bodies built up front so only the HTTP exchange is timed
  const bodies = run.files.map(multipartBody);
  const errors = new Map<string, number>();
  const latenciesMs: number[] = [];
  let next = 0;
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + run.budgetMs;

  const worker = async (): Promise<void> => {
    while (next < bodies.length && performance.now() < deadline) {
      const { contentType, body } = bodies[next++]!;
      const t0 = performance.now();
      try {
        const res = await pool.request({
          path: run.indexPath,
          method: 'POST',
          headers: { 'content-type': contentType, ...run.authHeaders },
          body,
          headersTimeout: 60_000,
          bodyTimeout: 60_000,
        });
        const text = await res.body.text();
        if (res.statusCode === 200) {
          ok++;
          latenciesMs.push(performance.now() - t0);
        } else {
          failed++;
          const key = `${res.statusCode} ${text.slice(0, 160)}`;
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
      } catch (err) {
        failed++;
        const key = `socket: ${(err as Error).message}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: run.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { ok, failed, skipped: bodies.length - next, seconds, filesPerSecond: ok / seconds, latenciesMs, errors };
}

export function basicAuth(user: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}` };
}

export function devpiAuth(user: string, token: string): Record<string, string> {
  return { 'x-devpi-auth': Buffer.from(`${user}:${token}`, 'utf8').toString('base64') };
}
