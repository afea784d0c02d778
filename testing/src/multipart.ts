// The multipart/form-data body (RFC 7578) of the legacy upload API (`:action=file_upload`) that
// twine and devpi-client send, built by hand so tests can send exactly the bytes they mean: a wrong
// sha256_digest, a file name with `../`, a body cut short inside the file.
import { createHash, randomBytes } from 'node:crypto';

/** A built body and where the file's bytes start in it. */
export interface MultipartBody {
  /** `multipart/form-data; boundary=…` */
  readonly contentType: string;
  readonly body: Buffer;
  /** Offset of the first byte of the file's content inside `body` (to cut it mid-file). */
  readonly fileOffset: number;
}

/** The file part of a form. */
export interface FormFile {
  /** The part's `name`; default `content` (the legacy upload API's field). */
  readonly field?: string;
  readonly filename: string;
  readonly content: Uint8Array;
}

function quoteParam(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** A multipart/form-data body of `fields` (in order, text) and then `file`. */
export function multipartBody(fields: ReadonlyArray<readonly [string, string]>, file: FormFile): MultipartBody {
  const boundary = `----wheelhouse-test-${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quoteParam(name)}"\r\n\r\n${value}\r\n`, 'utf8'));
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${quoteParam(file.field ?? 'content')}"; filename="${quoteParam(file.filename)}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
      'utf8',
    ),
  );
  const fileOffset = parts.reduce((n, b) => n + b.length, 0);
  parts.push(Buffer.from(file.content), Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(parts), fileOffset };
}

/** What a legacy upload describes. */
export interface UploadFields {
  /** Metadata `name` and `version` form fields. */
  readonly name: string;
  readonly version: string;
  /** The file name sent (decides `filetype`: `.whl` → bdist_wheel, else sdist). */
  readonly filename: string;
  readonly content: Uint8Array;
  /** `summary`; default `uploaded by the wheelhouse tests`. */
  readonly summary?: string;
  /** `requires_python`; default `>=3.8`; `null` leaves the field out. */
  readonly requiresPython?: string | null;
  /** Send this sha256_digest instead of the real one; `null` leaves the field out. */
  readonly sha256Digest?: string | null;
  /** Leave out md5_digest. */
  readonly noMd5?: boolean;
  /** Leave out `metadata_version`, `filetype` and `pyversion` (a bare form, as the master unit tests send). */
  readonly minimal?: boolean;
  /** More fields, sent after the standard ones. */
  readonly extra?: Readonly<Record<string, string>>;
}

/**
 * The fields twine 4 sends for a distribution (`:action=file_upload`, protocol_version 1,
 * metadata_version 2.1, name, version, summary, filetype, pyversion, requires_python, md5_digest,
 * sha256_digest), the metadata part trimmed to what the server reads.
 */
export function twineFields(u: UploadFields): Array<readonly [string, string]> {
  const isWheel = u.filename.endsWith('.whl');
  const f: Array<readonly [string, string]> = [[':action', 'file_upload'], ['protocol_version', '1']];
  if (!u.minimal) f.push(['metadata_version', '2.1']);
  f.push(['name', u.name], ['version', u.version]);
  if (!u.minimal) {
    f.push(['summary', u.summary ?? 'uploaded by the wheelhouse tests'], ['filetype', isWheel ? 'bdist_wheel' : 'sdist'], ['pyversion', isWheel ? 'py3' : 'source']);
    if (u.requiresPython !== null) f.push(['requires_python', u.requiresPython ?? '>=3.8']);
  }
  if (!u.noMd5 && !u.minimal) f.push(['md5_digest', createHash('md5').update(u.content).digest('hex')]);
  if (u.sha256Digest !== null && !(u.minimal && u.sha256Digest === undefined)) {
    f.push(['sha256_digest', u.sha256Digest ?? createHash('sha256').update(u.content).digest('hex')]);
  }
  for (const [k, v] of Object.entries(u.extra ?? {})) f.push([k, v]);
  return f;
}

/** The whole legacy upload body for `u` (see {@link twineFields}); POST it to the index URL. */
export function legacyUploadBody(u: UploadFields): MultipartBody {
  return multipartBody(twineFields(u), { filename: u.filename, content: u.content });
}
