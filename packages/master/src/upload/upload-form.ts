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
import { BadRequestError, PayloadTooLargeError } from '@wheelhouse/core';
import { TooLargeError, IntegrityError, type FileStore, type StagedFile } from '@wheelhouse/changelog';

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
      bb = busboy({ headers: req.headers, preservePath: true, limits: { fieldSize: 4 * 1024 * 1024, fields: 500, files: 5, parts: 600 } });
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
    bb.on('field', (name, value) => {
      const list = fields.get(name);
      if (list) list.push(value);
      else fields.set(name, [value]);
    });
    bb.on('file', (name, stream, info) => {
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
        else fail(new BadRequestError(`upload of ${filename} failed: ${(err as Error).message}`));
      });
    });
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
