// Small, real sdists made in memory (a ustar archive, gzip'd) for tests that upload many versions:
// `name-version/pyproject.toml` (setuptools, one py-module), `PKG-INFO` and the module — pip can
// download it and build its metadata (with setuptools from the index under build isolation).
import { gzipSync } from 'node:zlib';

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
  h.fill(0x20, 148, 156); // checksum field counts as spaces
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** A gzip'd tar of the given files (paths relative to the archive root). */
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

export interface HandmadeSdist {
  readonly filename: string;
  readonly content: Buffer;
}

/** `{name}-{version}.tar.gz` (name with `_`, PEP 625) holding a buildable setuptools project. */
export function handmadeSdist(project: string, version: string): HandmadeSdist {
  const stem = `${project.replace(/[-.]+/g, '_')}-${version}`;
  const module = project.replace(/[-.]+/g, '_');
  const content = tarGz([
    [
      `${stem}/PKG-INFO`,
      `Metadata-Version: 2.1\nName: ${project}\nVersion: ${version}\nSummary: hand-made by the wheelhouse e2e tests\nRequires-Python: >=3.8\n`,
    ],
    [
      `${stem}/pyproject.toml`,
      [
        '[build-system]',
        'requires = ["setuptools>=61"]',
        'build-backend = "setuptools.build_meta"',
        '',
        '[project]',
        `name = "${project}"`,
        `version = "${version}"`,
        'requires-python = ">=3.8"',
        '',
        '[tool.setuptools]',
        `py-modules = ["${module}"]`,
        '',
      ].join('\n'),
    ],
    [`${stem}/${module}.py`, `VERSION = "${version}"\n`],
  ]);
  return { filename: `${stem}.tar.gz`, content };
}
