/**
 * Streams a legacy-upload `multipart/form-data` (or url-encoded, fields only) body (what twine, setup.py and devpi-client send,
 * devpi §1.9) with busboy: text fields are collected, the `content` file part goes straight into the
 * file store's staging area while it is hashed — never buffered whole in memory. `beforeFile`
 * runs when the file part starts (twine sends every field first), so a wrong name or version is
 * refused before a byte of the file is stored. File names are kept as sent (`preservePath`), so a
 * name with a path in it is refused rather than silently cut to its last part.
 */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { BadRequestError, FIELD_LIMITS, PayloadTooLargeError } from '@wheelhouse/core';
import { StorageFailedError, TooLargeError, IntegrityError, type FileStore, type StagedFile } from '@wheelhouse/changelog';

/**
 * Limits of one upload form (busboy's): a field's value, bytes (the largest metadata field's limit,
 * `description`'s; smaller fields are checked after parsing), and counts of fields, files and parts.
 * twine sends about 25 fields; `classifiers` and `requires_dist` repeat, so a few hundred is ample.
 */
export const FORM_LIMITS = { fieldBytes: FIELD_LIMITS.releaseDescriptionBytes, fields: 500, files: 5, parts: 600 } as const;

/** The parsed form: repeated fields keep every value. */
export interface UploadForm {
  fields: Map<string, string[]>;
  /** The `content` part, staged (not yet in the store), or undefined when the form had none. */
  file?: { filename: string; staged: StagedFile };
}

/** First value of a form field, or ''. */
export function field(form: UploadForm, name: string): string {
  return form.fields.get(name)?.[0] ?? '';
}

/** Options of {@link parseUploadForm}. */
export interface UploadFormOptions {
  /** Largest release file accepted, bytes (413 beyond). */
  maxFileBytes: number;
  /** Called with the fields seen so far and the file name when the file part starts; throw to refuse. */
  beforeFile?: (fields: Map<string, string[]>, filename: string) => void;
}

/**
 * Parses the request body. Rejects with BadRequestError (400) on a malformed or truncated body,
 * PayloadTooLargeError (413) on a too large file, BadRequestError when `sha256_digest` does not
 * match; on any rejection the staged file is discarded.
 */
export function parseUploadForm(req: IncomingMessage, files: FileStore, opts: UploadFormOptions): Promise<UploadForm> {
  return new Promise<UploadForm>((resolve, reject) => {
    const fields = new Map<string, string[]>();
    let staging: Promise<{ filename: string; staged: StagedFile }> | undefined;
    let failed = false;
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, preservePath: true, limits: { fieldSize: FORM_LIMITS.fieldBytes, fields: FORM_LIMITS.fields, files: FORM_LIMITS.files, parts: FORM_LIMITS.parts } });
    } catch (err) {
      reject(new BadRequestError(`invalid upload form: ${(err as Error).message}`));
      return;
    }
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.resume();
      staging?.then((s) => s.staged.discard()).catch(() => undefined);
      reject(err);
    };
    bb.on('field', (name, value, info) => {
      if (failed) return;
      if (info.nameTruncated || name.length > 256) {
        fail(new BadRequestError(`a form field name is longer than 256 characters`));
        return;
      }
      if (info.valueTruncated) {
        fail(new PayloadTooLargeError(`form field "${name}" is larger than ${FORM_LIMITS.fieldBytes} bytes, the limit of a form field`));
        return;
      }
      const list = fields.get(name);
      if (list) list.push(value);
      else fields.set(name, [value]);
    });
    bb.on('file', (name, stream, info) => {
      // a form cut short errors the part's stream as well as busboy: busboy's 'error' answers it,
      // and a stream error without a listener would kill the process
      stream.on('error', () => undefined);
      if (name !== 'content' || staging || failed) {
        stream.resume();
        return;
      }
      const filename = info.filename ?? '';
      try {
        opts.beforeFile?.(fields, filename);
      } catch (err) {
        stream.resume();
        fail(err);
        return;
      }
      const expected = fields.get('sha256_digest')?.[0]?.toLowerCase();
      staging = files
        .stage(stream, { maxBytes: opts.maxFileBytes, ...(expected ? { expectedSha256: expected } : {}) })
        .then((staged) => ({ filename, staged }));
      staging.catch((err: unknown) => {
        stream.resume();
        if (err instanceof TooLargeError) fail(new PayloadTooLargeError(`${filename}: file larger than ${opts.maxFileBytes} bytes`));
        else if (err instanceof IntegrityError) fail(new BadRequestError(`${filename}: sha256_digest does not match the uploaded content`));
        // a full or failing disk is the node's fault (507/503), not the client's
        else if (err instanceof StorageFailedError) fail(err);
        else fail(new BadRequestError(`upload of ${filename} failed: ${(err as Error).message}`));
      });
    });
    bb.on('fieldsLimit', () => fail(new PayloadTooLargeError(`the upload form has more than ${FORM_LIMITS.fields} fields (the limit)`)));
    bb.on('partsLimit', () => fail(new PayloadTooLargeError(`the upload form has more than ${FORM_LIMITS.parts} parts (the limit)`)));
    bb.on('filesLimit', () => fail(new PayloadTooLargeError(`the upload form has more than ${FORM_LIMITS.files} files (the limit)`)));
    bb.on('error', (err: Error) => fail(new BadRequestError(`invalid or truncated upload form: ${err.message}`)));
    bb.on('close', () => {
      if (failed) return;
      if (!staging) {
        resolve({ fields });
        return;
      }
      staging.then(
        (file) => {
          if (failed) {
            void file.staged.discard();
            return;
          }
          const digest = fields.get('sha256_digest')?.[0]?.toLowerCase();
          if (digest && digest !== file.staged.sha256) {
            void file.staged.discard();
            fail(new BadRequestError(`${file.filename}: sha256_digest does not match the uploaded content`));
            return;
          }
          resolve({ fields, file });
        },
        () => undefined,
      );
    });
    req.on('aborted', () => fail(new BadRequestError('upload aborted by the client before the body was complete')));
    req.on('error', (err) => fail(new BadRequestError(`upload failed: ${err.message}`)));
    req.pipe(bb);
  });
}
