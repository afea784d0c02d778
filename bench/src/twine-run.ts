/**
 * One run of the real `/usr/bin/twine upload` over `files` (written to a temp dir), with the
 * user's password (HTTP Basic on every file, as twine does). Wall time includes twine's start-up,
 * which is measured apart with `twine --version` so both figures can be shown.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReleaseFile } from './release-files.js';

export const TWINE = '/usr/bin/twine';
const TWINE_TIMEOUT_MS = 60_000;

export type TwineOutcome =
  | { readonly ran: false; readonly note: string }
  | {
      readonly ran: true;
      readonly ok: boolean;
      readonly files: number;
      readonly seconds: number;
      readonly startupSeconds: number;
      readonly note: string;
    };

function timed(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; seconds: number; output: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(TWINE, args, { env, timeout: TWINE_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, seconds: (performance.now() - t0) / 1000, output: `${stdout}${stderr}` });
    });
  });
}

export async function runTwine(indexUrl: string, user: string, password: string, files: readonly ReleaseFile[]): Promise<TwineOutcome> {
  if (!existsSync(TWINE)) return { ran: false, note: `${TWINE} not found: twine upload skipped` };
  const dir = mkdtempSync(join(tmpdir(), 'wh-bench-twine-'));
  try {
    const paths = files.map((f) => {
      const p = join(dir, f.filename);
      writeFileSync(p, f.content);
      return p;
    });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
      TWINE_NON_INTERACTIVE: '1',
    };
    const startup = await timed(['--version'], env);
    const run = await timed(['upload', '--disable-progress-bar', '--repository-url', indexUrl, '-u', user, '-p', password, ...paths], env);
    const ok = run.code === 0;
    return {
      ran: true,
      ok,
      files: files.length,
      seconds: run.seconds,
      startupSeconds: startup.seconds,
      note: ok ? '' : `twine exited ${run.code}: ${run.output.split('\n').slice(-12).join('\n')}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
