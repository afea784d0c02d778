/**
 * The release files the benchmark uploads: mostly sdists (any bytes; the server stores them
 * as-is) and some real wheels (a stored zip with `{name}-{version}.dist-info/METADATA`, which the
 * server reads for PEP 658). Sizes are a few KB, drawn from a seeded generator so every run
 * uploads the same mix.
 */
import { buildWheel, opaqueSdist, type Distribution } from '@wheelhouse/testing';

/** A release file to upload (built by @wheelhouse/testing). */
export type ReleaseFile = Distribution;

/** A small deterministic PRNG (mulberry32) for sizes. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An sdist of `size` bytes (random content: the server does not look inside sdists). */
export function sdist(name: string, version: string, size: number): ReleaseFile {
  return opaqueSdist(name, version, size);
}

/** A pure-Python wheel whose payload module has about `payloadSize` bytes. */
export function wheel(name: string, version: string, payloadSize: number): ReleaseFile {
  return buildWheel(name, version, { summary: 'benchmark wheel', paddingBytes: payloadSize, source: '', generator: 'wheelhouse-bench' });
}

export function projectName(i: number): string {
  return `bench-proj-${String(i).padStart(3, '0')}`;
}

/** Size of the sdist the download benchmark fetches. */
export const DOWNLOAD_FILE_BYTES = 5 * 1024;

/**
 * The population: `fileCount` files spread round-robin over `projectCount` projects, version
 * `1.0.<round>`; every tenth a wheel, the rest sdists of 1–12 KB. File 0 is an sdist of exactly
 * DOWNLOAD_FILE_BYTES (the download target); file 3 is a wheel (the `.metadata` target).
 */
export function population(projectCount: number, fileCount: number): ReleaseFile[] {
  const rand = seededRandom(2024);
  const files: ReleaseFile[] = [];
  for (let i = 0; i < fileCount; i++) {
    const name = projectName(i % projectCount);
    const version = `1.0.${Math.floor(i / projectCount)}`;
    const size = 1024 + Math.floor(rand() * 11 * 1024);
    if (i === 0) files.push(sdist(name, version, DOWNLOAD_FILE_BYTES));
    else if (i % 10 === 3) files.push(wheel(name, version, size));
    else files.push(sdist(name, version, size));
  }
  return files;
}

/** `count` new files (versions `<prefix>.<n>`) for existing projects, for the upload benchmarks. */
export function newFiles(projectCount: number, count: number, versionPrefix: string, wheels = false): ReleaseFile[] {
  const rand = seededRandom(versionPrefix.length * 7919 + count);
  const files: ReleaseFile[] = [];
  for (let i = 0; i < count; i++) {
    const name = projectName(i % projectCount);
    const version = `${versionPrefix}.${i}`;
    const size = 1024 + Math.floor(rand() * 7 * 1024);
    files.push(wheels || i % 10 === 3 ? wheel(name, version, size) : sdist(name, version, size));
  }
  return files;
}
