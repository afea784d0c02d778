/**
 * PEP 658: the core metadata file of a wheel (`{name}-{version}.dist-info/METADATA`), read from the
 * stored wheel with `yauzl` (only the central directory and that one entry are read).
 */
import yauzl from 'yauzl';
import { BadRequestError } from './errors.js';
import { normalizeProjectName } from './names.js';

/** Largest METADATA accepted, bytes. */
const MAX_METADATA_BYTES = 16 * 1024 * 1024;

/**
 * Reads the METADATA bytes of the wheel at `path` for `project` (any name spelling). Throws
 * BadRequestError (400) when the file is not a zip or has no such entry.
 */
export async function readWheelMetadata(path: string, project: string): Promise<Buffer> {
  return (await readWheelMetadataEntry(path, project)).bytes;
}

/**
 * Like {@link readWheelMetadata}, also giving the `.dist-info` directory the METADATA is in
 * (`foo_bar-1.0.dist-info`). When no directory is for `project` but another one is, the 400 names it.
 */
export async function readWheelMetadataEntry(path: string, project: string): Promise<{ bytes: Buffer; distInfo: string }> {
  const wanted = normalizeProjectName(project);
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(path, { lazyEntries: true, autoClose: false }, (err, z) => (err ? reject(err) : resolve(z))),
    );
  } catch (err) {
    throw new BadRequestError(`invalid wheel: not a zip archive (${(err as Error).message})`);
  }
  try {
    const others: string[] = [];
    const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => {
        const m = /^([^/]+)-[^/-]+\.dist-info\/METADATA$/.exec(e.fileName);
        if (m && normalizeProjectName(m[1]!) === wanted) resolve(e);
        else {
          if (/^[^/]+\.dist-info\/METADATA$/.test(e.fileName) && others.length < 3) others.push(e.fileName.split('/')[0]!);
          zip.readEntry();
        }
      });
      zip.on('end', () => resolve(undefined));
      zip.on('error', reject);
      zip.readEntry();
    });
    if (!entry && others.length) {
      throw new BadRequestError(`invalid wheel: its .dist-info directory '${others[0]}' is not for project '${project}'`);
    }
    if (!entry) throw new BadRequestError(`invalid wheel: no ${project} .dist-info/METADATA inside`);
    if (entry.uncompressedSize > MAX_METADATA_BYTES) throw new BadRequestError('invalid wheel: METADATA too large');
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))),
    );
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return { bytes: Buffer.concat(chunks), distInfo: entry.fileName.split('/')[0]! };
  } catch (err) {
    if (err instanceof BadRequestError) throw err;
    throw new BadRequestError(`invalid wheel: ${(err as Error).message}`);
  } finally {
    zip.close();
  }
}
