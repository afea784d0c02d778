// Python distributions made in memory for tests and benchmarks: a wheel (PEP 427: a stored zip with
// `{dist}.dist-info/METADATA`, `WHEEL`, `RECORD` and one module) and an sdist (PEP 625
// `{name}-{version}.tar.gz`: a ustar archive, gzip'd, with PKG-INFO, a setuptools pyproject.toml
// and the module, so pip can build it). Both are installable by pip.
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { storedZip } from './stored-zip.js';

/** A distribution file as an upload sends it. */
export interface Distribution {
  /** Project name as given (the upload form's `name`). */
  readonly name: string;
  readonly version: string;
  readonly filename: string;
  readonly content: Buffer;
  /** sha256 of `content`, hex. */
  readonly sha256: string;
  /** The core metadata (METADATA / PKG-INFO) bytes inside the archive. */
  readonly metadata: Buffer;
}

export interface WheelOptions {
  /** `Requires-Python`; default `>=3.8`; `null` leaves the field out. */
  readonly requiresPython?: string | null;
  /** `Summary`; default `made by the wheelhouse tests`. */
  readonly summary?: string;
  /** More METADATA header lines (`Requires-Dist: x`…), each without its newline. */
  readonly metadataLines?: readonly string[];
  /** Module layout: `package` (`{mod}/__init__.py`, default) or `module` (`{mod}.py`). */
  readonly layout?: 'package' | 'module';
  /** Module source; default `VERSION = "{version}"`. */
  readonly source?: string;
  /** Append a comment of about this many random hex bytes to the module (size of the wheel). */
  readonly paddingBytes?: number;
  /** The WHEEL file's `Generator`; default `wheelhouse-testing`. */
  readonly generator?: string;
}

/** sha256 of bytes, hex. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The wheel-escaped distribution name (PEP 427 / binary distribution format): runs of `-_.` → `_`. */
export function wheelDistName(name: string): string {
  return name.replace(/[-_.]+/g, '_');
}

/** Core metadata 2.1 for `name` `version` (RFC 822 headers, blank line at the end). */
export function coreMetadata(name: string, version: string, opts: WheelOptions = {}): Buffer {
  const lines = ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`, `Summary: ${opts.summary ?? 'made by the wheelhouse tests'}`];
  if (opts.requiresPython !== null) lines.push(`Requires-Python: ${opts.requiresPython ?? '>=3.8'}`);
  lines.push(...(opts.metadataLines ?? []));
  return Buffer.from(`${lines.join('\n')}\n\n`, 'utf8');
}

/** A pure-Python wheel `{dist}-{version}-py3-none-any.whl` (see the module doc and {@link WheelOptions}). */
export function buildWheel(name: string, version: string, opts: WheelOptions = {}): Distribution {
  const mod = wheelDistName(name);
  const info = `${mod}-${version}.dist-info`;
  const metadata = coreMetadata(name, version, opts);
  const padding = opts.paddingBytes ? `# ${randomBytes(Math.ceil(opts.paddingBytes / 2)).toString('hex').slice(0, opts.paddingBytes)}\n` : '';
  const files: Array<[string, Buffer]> = [
    [opts.layout === 'module' ? `${mod}.py` : `${mod}/__init__.py`, Buffer.from(`${opts.source ?? `VERSION = ${JSON.stringify(version)}\n`}${padding}`, 'utf8')],
    [`${info}/METADATA`, metadata],
    [`${info}/WHEEL`, Buffer.from(`Wheel-Version: 1.0\nGenerator: ${opts.generator ?? 'wheelhouse-testing'}\nRoot-Is-Purelib: true\nTag: py3-none-any\n`, 'utf8')],
  ];
  const record = files.map(([n, d]) => `${n},sha256=${createHash('sha256').update(d).digest('base64url')},${d.length}`).join('\n') + `\n${info}/RECORD,,\n`;
  files.push([`${info}/RECORD`, Buffer.from(record, 'utf8')]);
  const content = storedZip(files.map(([n, data]) => ({ name: n, data })));
  return { name, version, filename: `${mod}-${version}-py3-none-any.whl`, content, sha256: sha256Hex(content), metadata };
}

function tarHeader(path: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(512, 0);
  const put = (s: string, off: number, len: number): void => {
    h.write(s.slice(0, len), off, 'utf8');
  };
  const octal = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0';
  put(path, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  h.fill(0x20, 148, 156); // the checksum field counts as spaces
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** A gzip'd ustar archive of the given files (paths relative to the archive root). */
export function tarGz(files: ReadonlyArray<readonly [string, string | Uint8Array]>): Buffer {
  const mtime = Math.floor(Date.now() / 1000);
  const parts: Buffer[] = [];
  for (const [path, content] of files) {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    parts.push(tarHeader(path, data.length, mtime), data, Buffer.alloc((512 - (data.length % 512)) % 512, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return gzipSync(Buffer.concat(parts));
}

/**
 * `{name}-{version}.tar.gz` (name with `_`, PEP 625) holding a buildable setuptools project with
 * one py-module. pip can download it and build its metadata (setuptools from the index).
 */
export function buildSdist(name: string, version: string, opts: Pick<WheelOptions, 'summary' | 'requiresPython'> = {}): Distribution {
  const stem = `${wheelDistName(name)}-${version}`;
  const mod = wheelDistName(name);
  const metadata = coreMetadata(name, version, { summary: opts.summary ?? 'hand-made by the wheelhouse e2e tests', ...(opts.requiresPython !== undefined ? { requiresPython: opts.requiresPython } : {}) });
  const content = tarGz([
    [`${stem}/PKG-INFO`, metadata.subarray(0, metadata.length - 1)],
    [
      `${stem}/pyproject.toml`,
      ['[build-system]', 'requires = ["setuptools>=61"]', 'build-backend = "setuptools.build_meta"', '', '[project]', `name = "${name}"`, `version = "${version}"`,
        'requires-python = ">=3.8"', '', '[tool.setuptools]', `py-modules = ["${mod}"]`, ''].join('\n'),
    ],
    [`${stem}/${mod}.py`, `VERSION = "${version}"\n`],
  ]);
  return { name, version, filename: `${stem}.tar.gz`, content, sha256: sha256Hex(content), metadata };
}

/** An "sdist" of `size` random bytes named `{name}-{version}.tar.gz` (the server does not look inside sdists). */
export function opaqueSdist(name: string, version: string, size: number): Distribution {
  const content = randomBytes(size);
  return { name, version, filename: `${name}-${version}.tar.gz`, content, sha256: sha256Hex(content), metadata: Buffer.alloc(0) };
}
