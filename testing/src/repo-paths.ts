// Where the repository and its shared test data are, computed from this module's own location
// (compiled to testing/dist/repo-paths.js), never from an absolute path of one machine.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the directory holding `bin/`, `packages/`, `testing/`), with a trailing slash. */
export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/** The CLI under test: `<repoRoot>/bin/wheelhouse`; `WHEELHOUSE_BIN` overrides it (to test another build). */
export const wheelhouseBin: string = process.env['WHEELHOUSE_BIN'] ?? join(repoRoot, 'bin', 'wheelhouse');

/**
 * The shared, read-only test data directory: `../shared/data` relative to the repository root
 * (e.g. `pypi-names.txt.gz`, the devpi export). It may be absent; tests that need a file check.
 */
export const sharedDataDir: string = join(repoRoot, '..', 'shared', 'data');

/** Path of `name` inside {@link sharedDataDir}. */
export function sharedDataFile(name: string): string {
  return join(sharedDataDir, name);
}
