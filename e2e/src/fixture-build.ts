// The distributions the e2e tests upload: the fixture project e2e/fixtures/wh-e2e-demo built once per
// test process with `python3 -m build --no-isolation` (Debian's setuptools 66), and Debian's own
// pip/setuptools/wheel wheels from /usr/share/python-wheels.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { repoRoot, run } from '@wheelhouse/testing';
import { debianWheelDir, pythonClientEnv, pythonEval, systemPython } from './python-clients.js';

export const fixtureName = 'wh-e2e-demo';
export const fixtureModule = 'wh_e2e_demo';
export const fixtureVersion = '1.0.0';
export const fixtureSource = join(repoRoot, 'e2e', 'fixtures', fixtureName);

export interface FixtureBuild {
  readonly dir: string;
  readonly sdist: string;
  readonly wheel: string;
}

let built: Promise<FixtureBuild> | undefined;
const buildDirs: string[] = [];
process.on('exit', () => {
  if (process.env['WH_E2E_KEEP']) return;
  for (const d of buildDirs) rmSync(d, { recursive: true, force: true });
});

/** Builds the fixture's sdist and wheel once per process (a copy of the source, so the tree stays clean). */
export function buildFixture(): Promise<FixtureBuild> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-e2e-fixture-'));
    buildDirs.push(dir);
    const src = join(dir, 'src');
    const out = join(dir, 'dist');
    cpSync(fixtureSource, src, {
      recursive: true,
      filter: (p) => !/(^|\/)(build|dist|[^/]*\.egg-info|__pycache__)$/.test(p.slice(fixtureSource.length)),
    });
    const r = await run(systemPython, ['-m', 'build', '--no-isolation', '--sdist', '--wheel', '--outdir', out, src], {
      timeoutMs: 180_000,
      env: pythonClientEnv(),
    });
    if (r.code !== 0) throw new Error(`building the fixture failed: ${r.describe()}`);
    const files = readdirSync(out);
    const sdist = files.find((f) => f.endsWith('.tar.gz'));
    const wheel = files.find((f) => f.endsWith('.whl'));
    if (!sdist || !wheel) throw new Error(`fixture build made ${files.join(', ')}`);
    return { dir, sdist: join(out, sdist), wheel: join(out, wheel) };
  })();
  return built;
}

/** Debian's real pip, setuptools and wheel wheels. */
export function debianWheels(): string[] {
  const files = readdirSync(debianWheelDir).filter((f) => /^(pip|setuptools|wheel)-.*\.whl$/.test(f));
  for (const p of ['pip', 'setuptools', 'wheel']) {
    if (!files.some((f) => f.startsWith(`${p}-`))) throw new Error(`${debianWheelDir} has no ${p} wheel`);
  }
  return files.sort().map((f) => join(debianWheelDir, f));
}

/** Project name and version from a wheel or sdist file name (the fixture's and Debian's names). */
export function distNameVersion(file: string): { name: string; version: string } {
  const b = basename(file);
  if (b.endsWith('.whl')) {
    const [name, version] = b.split('-') as [string, string];
    return { name, version };
  }
  const stem = b.replace(/\.(tar\.gz|zip|tar\.bz2|tgz)$/, '');
  const i = stem.lastIndexOf('-');
  return { name: stem.slice(0, i), version: stem.slice(i + 1) };
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function fileSha256(path: string): string {
  return sha256Hex(readFileSync(path));
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

/**
 * Writes a copy of a wheel with the same file name but different bytes (a zip comment is added, so
 * it is still a valid wheel with the same METADATA) — for the non-volatile re-upload conflict.
 */
export async function alteredWheelCopy(wheel: string, destDir: string): Promise<string> {
  const dest = join(destDir, basename(wheel));
  if (existsSync(dest)) return dest;
  cpSync(wheel, dest);
  const r = await pythonEval(systemPython, "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'a')\nz.comment = b'altered by wheelhouse e2e'\nz.close()", [dest]);
  if (r.code !== 0) throw new Error(`altering ${wheel}: ${r.describe()}`);
  return dest;
}
