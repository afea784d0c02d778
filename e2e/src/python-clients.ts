// The real Python clients the e2e tests drive: twine, pip in a fresh venv, `python -m build`.
// All run on Debian's Python (/usr/bin/python3, not the pyenv one first on PATH) and are isolated
// from this machine's global pip configuration, which adds find-links and extra index URLs pointing
// at local wheel folders: `--isolated` alone does not skip /etc/xdg/pip/pip.conf (pip still reads
// global and site config files in isolated mode), PIP_CONFIG_FILE=/dev/null does. Without both, a
// test could pass without touching Wheelhouse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from '@wheelhouse/testing';

export const systemPython = '/usr/bin/python3';
export const twineBin = '/usr/bin/twine';
export const debianWheelDir = '/usr/share/python-wheels';

/** The environment for pip and twine: no PIP_* / TWINE_* / CA-bundle overrides from outside, no config file, no keyring. */
export function pythonClientEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k.startsWith('PIP_') || k.startsWith('TWINE_')) continue;
    if (['PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV', 'PYTHONSTARTUP', 'PYTHONUSERBASE'].includes(k)) continue;
    // requests lets these override a session's own CA (psf/requests#3829): twine's --cert would be ignored
    if (k === 'REQUESTS_CA_BUNDLE' || k === 'CURL_CA_BUNDLE') continue;
    env[k] = v;
  }
  env['PIP_CONFIG_FILE'] = '/dev/null';
  env['PIP_DISABLE_PIP_VERSION_CHECK'] = '1';
  env['PIP_NO_INPUT'] = '1';
  env['PYTHON_KEYRING_BACKEND'] = 'keyring.backends.null.Keyring';
  env['TWINE_NON_INTERACTIVE'] = '1';
  env['PYTHONDONTWRITEBYTECODE'] = '1';
  return { ...env, ...extra };
}

export interface TwineUpload {
  /** The index's upload URL, e.g. http://127.0.0.1:N/alice/dev/ */
  readonly repositoryUrl: string;
  readonly user: string;
  readonly password: string;
  readonly files: readonly string[];
  readonly timeoutMs?: number;
  /**
   * Debian's twine 4.0.2 reads metadata with pkginfo 1.8.2, which knows Metadata-Version up to 2.2
   * and refuses newer wheels ("Metadata is missing required fields: Name, Version") — Flask 3.1 and
   * most current wheels are 2.3–2.5. When set, twine runs with pkginfo taught to read 2.3–2.5 with
   * the 2.2 field table: the same patch twine itself applies for 2.0 in twine/wheel.py. The upload
   * code and what goes over the wire are twine's own.
   */
  readonly newerMetadataVersions?: boolean;
  /** A PEM CA file twine trusts for an https repository URL (`--cert`). */
  readonly cert?: string;
}

const TWINE_WITH_NEWER_METADATA = [
  'import sys',
  'import pkginfo.distribution as d',
  "for v in ('2.3', '2.4', '2.5'):",
  "    d.HEADER_ATTRS.setdefault(v, d.HEADER_ATTRS['2.2'])",
  'from twine.__main__ import main',
  "sys.argv[0] = 'twine'",
  'sys.exit(main())',
].join('\n');

export function twineUpload(u: TwineUpload): Promise<RunResult> {
  const [cmd, prefix] = u.newerMetadataVersions ? [systemPython, ['-c', TWINE_WITH_NEWER_METADATA]] : [twineBin, []];
  return run(
    cmd,
    [
      ...prefix,
      'upload',
      '--repository-url', u.repositoryUrl,
      '-u', u.user,
      '-p', u.password,
      '--non-interactive',
      '--disable-progress-bar',
      '--verbose',
      ...(u.cert ? ['--cert', u.cert] : []),
      ...u.files,
    ],
    { timeoutMs: u.timeoutMs ?? 120_000, env: pythonClientEnv() },
  );
}

export interface Venv {
  readonly dir: string;
  readonly python: string;
}

/** A fresh venv made by Debian's Python (it comes with pip 23 and setuptools, not wheel). */
export async function makeVenv(dir: string): Promise<Venv> {
  const r = await run(systemPython, ['-m', 'venv', dir], { timeoutMs: 90_000, env: pythonClientEnv() });
  if (r.code !== 0) throw new Error(`venv creation failed: ${r.describe()}`);
  return { dir, python: join(dir, 'bin', 'python') };
}

/** One entry of pip's `--report` JSON (pip ≥ 22.2), as far as the tests read it. */
export interface PipReportItem {
  readonly download_info: { readonly url: string; readonly archive_info?: { readonly hash?: string } };
  readonly metadata: { readonly name: string; readonly version: string };
}

export interface PipInstallResult extends RunResult {
  /** What pip installed and where it downloaded each distribution from (empty if pip failed). */
  readonly installed: readonly PipReportItem[];
}

export interface PipInstall {
  /** The index's simple URL, e.g. http://127.0.0.1:N/alice/dev/+simple/ */
  readonly indexUrl: string;
  readonly requirements: readonly string[];
  readonly extraArgs?: readonly string[];
  readonly timeoutMs?: number;
  /** Extra environment (e.g. `NETRC`), over {@link pythonClientEnv}'s. */
  readonly env?: Readonly<Record<string, string>>;
}

let reportCounter = 0;

/** `pip --isolated install --no-cache-dir --index-url URL …` in the venv, with a `--report`. */
export async function pipInstall(venv: Venv, p: PipInstall): Promise<PipInstallResult> {
  const report = join(venv.dir, `pip-report-${++reportCounter}.json`);
  const r = await run(
    venv.python,
    [
      '-m', 'pip', '--isolated', 'install',
      '--no-cache-dir',
      '--index-url', p.indexUrl,
      '--timeout', '30',
      '--retries', '1',
      '--report', report,
      ...(p.extraArgs ?? []),
      ...p.requirements,
    ],
    { timeoutMs: p.timeoutMs ?? 240_000, env: pythonClientEnv(p.env) },
  );
  let installed: PipReportItem[] = [];
  if (r.code === 0) {
    const parsed = JSON.parse(readFileSync(report, 'utf8')) as { install?: PipReportItem[] };
    installed = parsed.install ?? [];
  }
  return { ...r, summary: r.summary, describe: r.describe, installed };
}

export interface PipDownload {
  readonly indexUrl: string;
  readonly requirements: readonly string[];
  readonly dest: string;
  readonly noDeps?: boolean;
  readonly timeoutMs?: number;
}

/** `pip --isolated download` with Debian's pip (no venv needed). */
export function pipDownload(p: PipDownload): Promise<RunResult> {
  return run(
    systemPython,
    [
      '-m', 'pip', '--isolated', 'download',
      '--no-cache-dir',
      '--index-url', p.indexUrl,
      '--timeout', '30',
      '--retries', '0',
      '--dest', p.dest,
      ...(p.noDeps ? ['--no-deps'] : []),
      ...p.requirements,
    ],
    { timeoutMs: p.timeoutMs ?? 120_000, env: pythonClientEnv() },
  );
}

/** Runs `python -c code` and returns the result (stdout holds what the snippet printed). */
export function pythonEval(python: string, code: string, args: readonly string[] = []): Promise<RunResult> {
  return run(python, ['-c', code, ...args], { timeoutMs: 60_000, env: pythonClientEnv() });
}

/** The bytes of a wheel's `*.dist-info/METADATA`, read with Python's zipfile. */
export async function wheelMetadata(wheelPath: string): Promise<Buffer> {
  const code = [
    'import base64, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    "names = [n for n in z.namelist() if n.count('/') == 1 and n.endswith('.dist-info/METADATA')]",
    "assert len(names) == 1, names",
    'sys.stdout.write(base64.b64encode(z.read(names[0])).decode())',
  ].join('\n');
  const r = await pythonEval(systemPython, code, [wheelPath]);
  if (r.code !== 0) throw new Error(`reading METADATA of ${wheelPath}: ${r.describe()}`);
  return Buffer.from(r.stdout.trim(), 'base64');
}

/** The wheel tags Debian's Python accepts, most preferred first (for picking compatible wheels). */
export async function supportedWheelTags(): Promise<Set<string>> {
  const code = "from pip._vendor.packaging import tags\nprint('\\n'.join(str(t) for t in tags.sys_tags()))";
  const r = await pythonEval(systemPython, code);
  if (r.code !== 0) throw new Error(`listing wheel tags: ${r.describe()}`);
  return new Set(r.stdout.split('\n').map((s) => s.trim()).filter(Boolean));
}

/** Whether a wheel file name's tag triples intersect `tags` (PEP 425 compressed tag sets). */
export function wheelMatchesTags(filename: string, tags: ReadonlySet<string>): boolean {
  const parts = filename.replace(/\.whl$/, '').split('-');
  if (parts.length < 5) return false;
  const [pys, abis, plats] = parts.slice(-3) as [string, string, string];
  for (const py of pys.split('.'))
    for (const abi of abis.split('.'))
      for (const plat of plats.split('.')) if (tags.has(`${py}-${abi}-${plat}`)) return true;
  return false;
}
