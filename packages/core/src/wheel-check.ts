/**
 * What a wheel says about itself must agree with the upload form and its file name: the core
 * metadata `Name` (PEP 503-normalised) and `Version` (PEP 440-normalised) in
 * `{name}-{version}.dist-info/METADATA`, and that directory's own name (the binary distribution
 * format spec, PEP 427/491). pip refuses a wheel that disagrees ("inconsistent version"), so the
 * index refuses it at upload (400), naming what differs.
 */
import { compare, valid } from '@renovatebot/pep440';
import { BadRequestError } from './errors.js';
import { normalizeProjectName } from './names.js';

/** The `Name` and `Version` header of core metadata bytes (RFC 822 style header block); '' when absent. */
export function metadataNameVersion(metadata: Buffer): { name: string; version: string } {
  const text = metadata.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const header = (key: string): string => new RegExp(`^${key}:[ \\t]*(.*?)[ \\t]*\\r?$`, 'mi').exec(head)?.[1] ?? '';
  return { name: header('Name'), version: header('Version') };
}

/** Equal as PEP 440 versions (`1.0` = `1.0.0`, `1.0-1` = `1.0.post1`), or the same string. */
function sameVersion(a: string, b: string): boolean {
  if (a === b) return true;
  return valid(a) !== null && valid(b) !== null && compare(a, b) === 0;
}

/**
 * Throws BadRequestError (400) unless the wheel's METADATA `Name`/`Version` and its `.dist-info`
 * directory (`distInfo`, e.g. `foo_bar-1.0.dist-info`) match the form's `name` and `version`.
 */
export function checkWheelMetadata(filename: string, form: { name: string; version: string }, metadata: Buffer, distInfo: string): void {
  const meta = metadataNameVersion(metadata);
  if (!meta.name || !meta.version) throw new BadRequestError(`${filename}: the wheel's METADATA has no Name or Version`);
  if (normalizeProjectName(meta.name) !== normalizeProjectName(form.name)) {
    throw new BadRequestError(`${filename}: the wheel's METADATA Name '${meta.name}' is not the project '${form.name}' of the upload`);
  }
  if (!sameVersion(meta.version, form.version)) {
    throw new BadRequestError(`${filename}: the wheel's METADATA Version '${meta.version}' is not the version '${form.version}' of the upload`);
  }
  const dir = /^(.+)-([^-]+)\.dist-info$/.exec(distInfo);
  if (!dir || normalizeProjectName(dir[1]!) !== normalizeProjectName(form.name) || !sameVersion(dir[2]!.replace(/_/g, '-'), form.version)) {
    throw new BadRequestError(`${filename}: the wheel's directory '${distInfo}' does not match '${form.name}' version '${form.version}'`);
  }
}
