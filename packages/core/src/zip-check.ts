/**
 * A documentation upload (`:action=doc_upload`, devpi §1.9) must be a zip archive the doc pages can
 * serve: its central directory is read with `yauzl` (entry names and sizes only, no data).
 */
import yauzl from 'yauzl';
import { BadRequestError } from './errors.js';

/** Most entries a doc zip may hold. */
export const MAX_DOC_ZIP_ENTRIES = 100_000;

/**
 * Throws BadRequestError (400) unless the file at `path` is a readable zip archive with at least one
 * entry and at most {@link MAX_DOC_ZIP_ENTRIES}; `filename` (as uploaded) goes into the message.
 */
export async function assertReadableZip(path: string, filename: string): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(path, { lazyEntries: true, autoClose: false }, (err, z) => (err ? reject(err) : resolve(z))),
    );
  } catch (err) {
    throw new BadRequestError(`${filename || 'the documentation'}: not a readable zip archive (${(err as Error).message})`);
  }
  try {
    if (zip.entryCount === 0) throw new BadRequestError(`${filename || 'the documentation'}: the zip archive is empty`);
    if (zip.entryCount > MAX_DOC_ZIP_ENTRIES) {
      throw new BadRequestError(`${filename || 'the documentation'}: the zip archive has ${zip.entryCount} entries; the limit is ${MAX_DOC_ZIP_ENTRIES}`);
    }
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', () => zip.readEntry());
      zip.on('end', () => resolve());
      zip.on('error', reject);
      zip.readEntry();
    });
  } catch (err) {
    if (err instanceof BadRequestError) throw err;
    throw new BadRequestError(`${filename || 'the documentation'}: not a readable zip archive (${(err as Error).message})`);
  } finally {
    zip.close();
  }
}
