// Sending a hand-made legacy upload (`:action=file_upload`, the body built by @wheelhouse/testing's
// legacyUploadBody) from a distribution on disk, so tests can send exactly the bytes they mean: a
// wrong sha256_digest, a file name with `../`, a body cut short.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { authHeaders, legacyUploadBody, serialOf, type ApiResponse, type Credentials, type MultipartBody } from '@wheelhouse/testing';

/** A distribution on disk and what to change in its upload. */
export interface UploadSpec {
  /** Path of the distribution on disk. */
  readonly path: string;
  /** Metadata `name` and `version` form fields. */
  readonly name: string;
  readonly version: string;
  /** Send this file name instead of the file's own. */
  readonly filename?: string;
  /** Send these bytes instead of the file's. */
  readonly content?: Uint8Array;
  /** Send this sha256_digest instead of the real one. */
  readonly sha256Digest?: string;
}

/** The twine-style multipart body of `spec` (summary `uploaded by the wheelhouse e2e tests`). */
export function uploadBody(spec: UploadSpec): MultipartBody {
  return legacyUploadBody({
    name: spec.name,
    version: spec.version,
    filename: spec.filename ?? basename(spec.path),
    content: spec.content ?? readFileSync(spec.path),
    summary: 'uploaded by the wheelhouse e2e tests',
    ...(spec.sha256Digest !== undefined ? { sha256Digest: spec.sha256Digest } : {}),
  });
}

/** POSTs a legacy upload to `indexUrl` (e.g. http://127.0.0.1:N/alice/dev/) as twine would. */
export async function legacyUpload(indexUrl: string, auth: Credentials | undefined, spec: UploadSpec): Promise<ApiResponse> {
  const { contentType, body } = uploadBody(spec);
  const res = await fetch(indexUrl, {
    method: 'POST',
    headers: { 'Content-Type': contentType, ...authHeaders(auth) },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, statusText: res.statusText, headers: res.headers, text, json, serial: serialOf(res.headers) };
}
