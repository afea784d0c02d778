/**
 * Uploaded documentation served straight from its stored zip (`yauzl`): the zip's central directory
 * is read once per blob into a map of clean entry names, and a request is answered only with an
 * entry found by exact name in that map — the request path never reaches the file system, so no
 * path can leave the archive. Entry names that try (`../x`, absolute, backslashes) are dropped when
 * the map is built. A zip whose files all sit in one top-level folder with an `index.html` is
 * served from inside that folder. Open zips are kept in a small LRU, closed when unused.
 */
import yauzl from 'yauzl';
import mime from 'mime-types';

/** Where stored blobs are (the changelog's FileStore satisfies this). */
export interface DocBlobs {
  pathFor(sha256: string): string;
}

/**
 * The clean relative path a request names, or undefined when it must be refused: a `..` or `.`
 * segment, a backslash, NUL or control character, or a segment that does not decode. An empty path
 * or one ending in `/` names that folder's `index.html`. `raw` may be percent-encoded or not.
 */
export function cleanDocPath(raw: string): string | undefined {
  const out: string[] = [];
  const segs = raw.split('/');
  for (let i = 0; i < segs.length; i++) {
    let seg: string;
    try {
      seg = decodeURIComponent(segs[i]!);
    } catch {
      return undefined;
    }
    if (seg === '' && i < segs.length - 1) continue;
    if (seg === '.' || seg === '..' || /[\\\0-\x1f]/.test(seg) || seg.includes('/')) return undefined;
    out.push(seg);
  }
  if (out.length === 0 || out[out.length - 1] === '') {
    if (out[out.length - 1] === '') out.pop();
    out.push('index.html');
  }
  return out.join('/');
}

/** A zip entry name as stored, or undefined when it is a folder or would leave the archive. */
export function cleanEntryName(name: string): string | undefined {
  const n = name.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
  if (n === '' || n.endsWith('/') || n.startsWith('/') || /^[a-z]:/i.test(n)) return undefined;
  const segs = n.split('/');
  if (segs.some((s) => s === '' || s === '.' || s === '..' || /[\0-\x1f]/.test(s))) return undefined;
  return n;
}

/** A found document. */
export interface DocEntry {
  size: number;
  crc32: number;
  contentType: string;
  open(): Promise<NodeJS.ReadableStream>;
  /** call once the stream is done (lets the zip close) */
  release(): void;
}

interface OpenZip {
  zip: yauzl.ZipFile;
  entries: Map<string, yauzl.Entry>;
  /** prefix stripped from names (a single top-level folder) */
  prefix: string;
  users: number;
  evicted: boolean;
}

function openZip(path: string): Promise<OpenZip> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (err, zip) => {
      if (err) return reject(err);
      const entries = new Map<string, yauzl.Entry>();
      zip.on('entry', (e: yauzl.Entry) => {
        const name = cleanEntryName(e.fileName);
        if (name !== undefined && !entries.has(name)) entries.set(name, e);
        zip.readEntry();
      });
      zip.on('end', () => {
        let prefix = '';
        if (!entries.has('index.html')) {
          const tops = new Set([...entries.keys()].map((k) => k.split('/')[0]));
          const [top] = tops;
          if (tops.size === 1 && top !== undefined && entries.has(`${top}/index.html`)) prefix = `${top}/`;
        }
        resolve({ zip, entries, prefix, users: 0, evicted: false });
      });
      zip.on('error', (e: Error) => {
        zip.close();
        reject(e);
      });
      zip.readEntry();
    });
  });
}

/** Reads documentation zips (see module doc). */
export class DocZips {
  private readonly open = new Map<string, Promise<OpenZip>>();

  constructor(
    private readonly blobs: DocBlobs,
    private readonly maxOpen = 16,
  ) {}

  private get(sha256: string): Promise<OpenZip> {
    let hit = this.open.get(sha256);
    if (hit) {
      this.open.delete(sha256);
      this.open.set(sha256, hit);
      return hit;
    }
    hit = openZip(this.blobs.pathFor(sha256));
    this.open.set(sha256, hit);
    hit.catch(() => this.open.delete(sha256));
    while (this.open.size > this.maxOpen) {
      const [oldKey, old] = this.open.entries().next().value!;
      this.open.delete(oldKey);
      old.then((z) => {
        z.evicted = true;
        if (z.users === 0) z.zip.close();
      }, () => undefined);
    }
    return hit;
  }

  /**
   * The entry at `path` (already cleaned by {@link cleanDocPath}) of the doc zip `sha256`:
   * the entry, `'folder'` when `path` is a folder holding an `index.html` (redirect to `path/`),
   * or undefined. Rejects when the blob is missing (ENOENT) or not a zip.
   */
  async entry(sha256: string, path: string): Promise<DocEntry | 'folder' | undefined> {
    const z = await this.get(sha256);
    const found = z.entries.get(z.prefix + path);
    if (!found) return z.entries.has(`${z.prefix}${path}/index.html`) ? 'folder' : undefined;
    z.users++;
    let released = false;
    return {
      size: found.uncompressedSize,
      crc32: found.crc32,
      contentType: mime.contentType(path.slice(path.lastIndexOf('/') + 1)) || 'application/octet-stream',
      open: () => new Promise((resolve, reject) => z.zip.openReadStream(found, (err, s) => (err ? reject(err) : resolve(s)))),
      release: () => {
        if (released) return;
        released = true;
        z.users--;
        if (z.evicted && z.users === 0) z.zip.close();
      },
    };
  }

  /** Names of the entries of a doc zip (clean, prefix removed), for listings and tests. */
  async names(sha256: string): Promise<string[]> {
    const z = await this.get(sha256);
    return [...z.entries.keys()].filter((n) => n.startsWith(z.prefix)).map((n) => n.slice(z.prefix.length));
  }

  /** Closes every open zip not in use. */
  close(): void {
    for (const p of this.open.values()) p.then((z) => {
      z.evicted = true;
      if (z.users === 0) z.zip.close();
    }, () => undefined);
    this.open.clear();
  }
}
