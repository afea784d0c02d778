// The legacy upload API request that twine sends (`:action=file_upload` multipart form), built by
// hand so tests can send exactly the bytes they mean: a wrong sha256_digest, a file name with `../`,
// a body cut short. `multipartUpload` makes the body; `legacyUpload` sends it with fetch.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { authHeaders, serialOf, type ApiResponse, type Credentials } from './api-client.js';

export interface UploadFile {
  readonly filename: string;
  readonly content: Uint8Array;
}

export interface MultipartBody {
  readonly contentType: string;
  readonly body: Buffer;
  /** Offset of the first byte of the file's content inside `body` (to cut it mid-file). */
  readonly fileOffset: number;
}

function quoteParam(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

export function multipartUpload(fields: ReadonlyArray<readonly [string, string]>, file: UploadFile): MultipartBody {
  const boundary = `----wheelhouse-e2e-${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quoteParam(name)}"\r\n\r\n${value}\r\n`, 'utf8'));
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${quoteParam(file.filename)}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
      'utf8',
    ),
  );
  const fileOffset = parts.reduce((n, b) => n + b.length, 0);
  parts.push(Buffer.from(file.content), Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(parts), fileOffset };
}

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

/** The form fields twine 4 sends for a distribution (the metadata part trimmed to what matters). */
export function twineFields(spec: UploadSpec, content: Uint8Array, filename: string): Array<readonly [string, string]> {
  const isWheel = filename.endsWith('.whl');
  return [
    [':action', 'file_upload'],
    ['protocol_version', '1'],
    ['metadata_version', '2.1'],
    ['name', spec.name],
    ['version', spec.version],
    ['summary', 'uploaded by the wheelhouse e2e tests'],
    ['filetype', isWheel ? 'bdist_wheel' : 'sdist'],
    ['pyversion', isWheel ? 'py3' : 'source'],
    ['requires_python', '>=3.8'],
    ['md5_digest', createHash('md5').update(content).digest('hex')],
    ['sha256_digest', spec.sha256Digest ?? createHash('sha256').update(content).digest('hex')],
  ];
}

export function uploadBody(spec: UploadSpec): MultipartBody {
  const content = spec.content ?? readFileSync(spec.path);
  const filename = spec.filename ?? basename(spec.path);
  return multipartUpload(twineFields(spec, content, filename), { filename, content });
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
