/**
 * Names of users, indexes and projects, and what release file names say.
 *
 * Project names have one canonical form, {@link normalizeProjectName}, used for every key, URL,
 * whitelist entry and comparison; nothing else normalises a project name. Wheel file names escape
 * names differently on purpose ({@link wheelEscape}).
 */
import { BadRequestError } from './errors.js';

/**
 * The canonical (normalised) form of a project name: every run of characters outside
 * `[A-Za-z0-9]` becomes one `-`, then lower-case — devpi's rule (`devpi_common/validation.py`,
 * spec/devpi-reference.md §3.6). For every valid name (PEP 508: ASCII letters, digits and `-_.`)
 * this is exactly PEP 503's `re.sub(r"[-_.]+", "-", name).lower()`; for other strings (`a+b`,
 * `flask login`, a percent-decoded URL segment) it still gives the one stable form devpi gives, so
 * such URLs redirect as in devpi. Idempotent. Examples: `Wh_Demo.Mixed-Case` → `wh-demo-mixed-case`,
 * `foo._-bar` → `foo-bar`, `a+b` → `a-b`.
 */
export function normalizeProjectName(name: string): string {
  return name.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
}

/** A valid project name (PEP 508 / core metadata `Name`): ASCII letters, digits, `._-`, alphanumeric at both ends. */
export function isValidProjectName(name: string): boolean {
  return /^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$/.test(name);
}

/** Throws BadRequestError (400) unless `name` is a valid project name. */
export function assertValidProjectName(name: string): void {
  if (!isValidProjectName(name)) {
    throw new BadRequestError(
      `invalid project name '${name}': use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit`,
    );
  }
}

const FORBIDDEN_NAME_CHARS = /[\x00-\x20!"#$%&'()*+,/:;<=>?[\\\]^`{|}~\x7f]/;

/**
 * A valid user or index name, as devpi: no control characters, space or
 * ``!"#$%&'()*+,/:;<=>?[\]^`{|}~``, not empty, not starting with `+` (reserved for `+api`, `+simple`…).
 */
export function isValidUserOrIndexName(name: string): boolean {
  return name.length > 0 && name.length <= 128 && !FORBIDDEN_NAME_CHARS.test(name) && name !== '.' && name !== '..';
}

/** Release file extensions accepted for upload (devpi's list, case-insensitive). */
const ALLOWED_EXTENSIONS = /\.(exe|tar\.gz|tar\.bz2|tar\.xz|bz2|rpm|deb|zip|tgz|egg|dmg|msi|whl)$/i;

/** What a release file name says about itself. */
export interface FileNameInfo {
  /** The name part as written in the file name (not normalised). */
  name: string;
  version: string;
  /** `sdist`, `bdist_wheel`, `bdist_egg` or `other`. */
  kind: 'sdist' | 'bdist_wheel' | 'bdist_egg' | 'other';
  /** For wheels: the PEP 425 tags (`py3-none-any`). */
  tags?: string;
}

/**
 * Checks a file name is safe to store and names a release file: no path separators or `..`, an
 * allowed extension. Throws BadRequestError naming the problem.
 */
export function assertSafeFileName(filename: string): void {
  if (!filename || filename.includes('/') || filename.includes('\\') || filename.startsWith('.') || filename.includes('\0')) {
    throw new BadRequestError(`invalid file name '${filename}': it must be a plain file name without path separators`);
  }
  if (!ALLOWED_EXTENSIONS.test(filename)) {
    throw new BadRequestError(
      `${filename}: invalid file name: the extension must be one of .whl, .tar.gz, .zip, .tgz, .tar.bz2, .tar.xz, .egg, .exe, .msi, .dmg, .rpm, .deb`,
    );
  }
}

/**
 * Splits a release file name into name and version: wheels by the PEP 427 pattern
 * `{name}-{ver}(-{build})?-{py}-{abi}-{plat}.whl`, sdists as `{name}-{version}.{ext}` with the version
 * starting at the first `-` that is followed by a digit. Returns undefined when it does not parse.
 */
export function parseFileName(filename: string): FileNameInfo | undefined {
  const wheel = /^(.+?)-([^-]+?)(?:-(\d[^-]*))?-([^-]+-[^-]+-[^-]+)\.whl$/i.exec(filename);
  if (wheel) {
    return { name: wheel[1]!, version: wheel[2]!, kind: 'bdist_wheel', tags: wheel[4]! };
  }
  const egg = /^(.+?)-([^-]+?)(?:-.*)?\.egg$/i.exec(filename);
  if (egg) return { name: egg[1]!, version: egg[2]!, kind: 'bdist_egg' };
  const sdist = /^(.+?)-(\d[^-]*?)\.(tar\.gz|tar\.bz2|tar\.xz|zip|tgz|bz2)$/i.exec(filename);
  if (sdist) return { name: sdist[1]!, version: sdist[2]!, kind: 'sdist' };
  const other = /^(.+?)-(\d[^-]*?)(?:[.-].*)?\.(exe|msi|dmg|rpm|deb)$/i.exec(filename);
  if (other) return { name: other[1]!, version: other[2]!, kind: 'other' };
  return undefined;
}

/**
 * Escaping of a name or version component inside a wheel file name, PEP 427's
 * `re.sub(r"[^\w\d.]+", "_", component)`: runs of characters other than letters, digits, `_` and
 * `.` become one `_`; case and dots are kept (`Wh_Demo.Mixed-Case` → `Wh_Demo.Mixed_Case`,
 * `1.0+local-x` → `1.0_local_x`). Not a canonical name — compare names with
 * {@link normalizeProjectName}. (The binary distribution format spec now also lower-cases names and
 * turns `.` into `_`; files built either way normalise to the same project name.)
 */
export function wheelEscape(s: string): string {
  return s.replace(/[^\w\d.]+/g, '_');
}
