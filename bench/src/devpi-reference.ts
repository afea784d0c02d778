/**
 * devpi-server 6.19.1 as the perf part's reference column, where it is installed in a venv
 * (`WHEELHOUSE_DEVPI_VENV`, default /tmp/devpi-venv, made by ../shared/tools/devpi/install.sh —
 * started as e2e/src/devpi-workflow.test.ts does): `devpi-init --no-root-pypi` in a fresh server
 * directory, `devpi-server` on a free loopback port, then the same user, index and uploads as on
 * the Wheelhouse master (devpi's JSON API and the legacy upload form). CPU seconds from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds, freePort, notYet, run, waitFor } from '@wheelhouse/testing';
import { request } from 'undici';
import { stopChild } from './child-server.js';
import type { ReleaseFile } from './release-files.js';
import { devpiAuth, runUploads } from './upload-runner.js';

/** The venv devpi-server is looked for in. */
export const DEVPI_VENV = process.env['WHEELHOUSE_DEVPI_VENV'] ?? '/tmp/devpi-venv';

/** Why the devpi column is skipped, or undefined when devpi-server is there. */
export function devpiMissing(): string | undefined {
  for (const tool of ['devpi-server', 'devpi-init']) {
    if (!existsSync(join(DEVPI_VENV, 'bin', tool))) return `${join(DEVPI_VENV, 'bin', tool)} is missing (run ../shared/tools/devpi/install.sh ${DEVPI_VENV})`;
  }
  return undefined;
}

function toolEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(DEVPI_VENV, 'bin')}:/usr/bin:/bin`, PYTHONDONTWRITEBYTECODE: '1' };
  delete env['PIP_FIND_LINKS'];
  delete env['PIP_INDEX_URL'];
  return env;
}

async function call(method: 'PUT' | 'POST', url: string, body: unknown, headers: Record<string, string>): Promise<unknown> {
  const res = await request(url, { method, headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`devpi-server: ${method} ${url} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** A running devpi-server with the perf part's project uploaded. */
export class DevpiReference {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    /** e.g. `/perf/dev/` */
    readonly indexPath: string,
  ) {}

  /**
   * Initialises `serverdir`, starts devpi-server and uploads `files` to user `user`'s index `dev`.
   * @throws when a step fails (the server is then stopped).
   */
  static async start(serverdir: string, user: string, password: string, files: readonly ReleaseFile[]): Promise<DevpiReference> {
    const init = await run(join(DEVPI_VENV, 'bin', 'devpi-init'), ['--serverdir', serverdir, '--no-root-pypi'], { timeoutMs: 180_000, env: toolEnv() });
    if (init.code !== 0) throw new Error(`devpi-init failed: ${init.stderr.slice(0, 300)}`);
    const port = await freePort();
    const child = spawn(join(DEVPI_VENV, 'bin', 'devpi-server'), ['--serverdir', serverdir, '--host', '127.0.0.1', '--port', String(port)], { env: toolEnv(), stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}`;
    const d = new DevpiReference(child, url, `/${user}/dev/`);
    try {
      await waitFor(async () => ((await fetch(`${url}/+api`).catch(() => undefined))?.status === 200 ? true : notYet('devpi-server not answering /+api')), { what: 'devpi-server ready', timeoutMs: 180_000, intervalMs: 250 });
      await call('PUT', `${url}/${user}`, { password }, {});
      const login = (await call('POST', `${url}/+login`, { user, password }, {})) as { result?: { password?: unknown } };
      const token = login.result?.password;
      if (typeof token !== 'string') throw new Error('devpi-server: POST /+login gave no token');
      await call('PUT', `${url}/${user}/dev`, {}, devpiAuth(user, token));
      const up = await runUploads({ baseUrl: url, indexPath: d.indexPath, authHeaders: devpiAuth(user, token), files, concurrency: 1, budgetMs: 180_000 });
      if (up.ok !== files.length) throw new Error(`devpi-server took ${up.ok} of ${files.length} uploads: ${[...up.errors.keys()].slice(0, 2).join('; ')}`);
      return d;
    } catch (err) {
      await d.stop();
      throw err;
    }
  }

  /** The path of `filename` on the project's simple page (devpi's `+f/…` URL), from its HTML links. @throws when absent. */
  async filePath(project: string, filename: string): Promise<string> {
    const page = `${this.url}${this.indexPath}+simple/${project}/`;
    const res = await request(page, { headers: { accept: 'text/html' } });
    const html = await res.body.text();
    for (const m of html.matchAll(/href="([^"]+)"/g)) {
      const u = new URL(m[1]!.replace(/&amp;/g, '&'), page);
      if (u.pathname.endsWith(`/${filename}`)) return u.pathname;
    }
    throw new Error(`devpi-server: ${filename} not on ${page}`);
  }

  cpuSeconds(): number | undefined {
    return cpuSeconds(this.child.pid);
  }

  /** SIGTERM; resolves when it exited (SIGKILL after 10 s). */
  async stop(): Promise<void> {
    await stopChild(this.child, 'SIGTERM', 10_000);
  }
}
