// The e2e helpers: one import for the test files. Processes, waits, wheels and multipart bodies
// come from @wheelhouse/testing (re-exported here where the tests used them); each e2e concern
// lives in its own module:
//   python-clients.ts   twine, venv + pip (isolated from the machine's pip config), python -c
//   fixture-build.ts    the fixture project built once per process, Debian's wheels
//   legacy-upload.ts    sending hand-made twine-style uploads of files on disk
//   raw-http.ts         raw-socket HTTP/1.1 (PUSH, truncated bodies)
//   recording-proxy.ts  a recording proxy in front of the master (which simple API pip used)
//   simple-pages.ts     PEP 503 / PEP 691 page readers
//   store-snapshot.ts   "the store is unchanged" for bad-input tests
import { ApiClient, describeResponse, type Credentials } from '@wheelhouse/testing';

export {
  ApiClient, authHeaders, buildSdist, buildWheel, describeResponse, messageOf, multipartBody, repoRoot, resultOf, run, serialOf, wheelhouseBin,
  type ApiResponse, type Credentials, type RequestOptions, type RunOptions, type RunResult,
} from '@wheelhouse/testing';
export * from './python-clients.js';
export * from './fixture-build.js';
export * from './legacy-upload.js';
export * from './raw-http.js';
export * from './recording-proxy.js';
export * from './simple-pages.js';
export * from './store-snapshot.js';

/** Generous per-test timeout for tests that run pip or twine. */
export const CLIENT_TEST_TIMEOUT_MS = 300_000;

/** PUT /{user} as `admin` (root); asserts 201. Returns the user's Basic credentials. */
export async function createUser(admin: ApiClient, user: string, password: string): Promise<Credentials> {
  const res = await admin.put(`/${user}`, { password, email: `${user}@example.invalid` });
  if (res.status !== 201) throw new Error(`PUT /${user}: expected 201, got ${describeResponse(res)}`);
  return { user, password };
}

/** PUT /{user}/{index} with `config`; devpi answers 200 (some servers 201): both accepted. */
export async function createIndex(owner: ApiClient, index: string, config: Record<string, unknown> = {}): Promise<void> {
  const res = await owner.put(`/${index}`, config);
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(`PUT /${index} ${JSON.stringify(config)}: expected 200, got ${describeResponse(res)}`);
  }
}
