/**
 * devpi's JSON views of releases (§1.6 `getjson`): a version's `verdata` (metadata plus `+links`,
 * and `+shadowing` when later stages of the resolution order have the same version) and the
 * `+links` entries with absolute hrefs under the server's outside URL.
 */
import type { ReleaseLink, ReleaseRecord } from '../model/records.js';
import { encodePath } from './simple-pages.js';

/** devpi's `+links` entry for a link, with absolute hrefs under `base` (outside URL, no trailing slash). */
export function linkView(base: string, link: ReleaseLink): Record<string, unknown> {
  const out: Record<string, unknown> = {
    rel: link.rel,
    href: `${base}/${encodePath(link.entrypath)}`,
    hash_spec: `sha256=${link.sha256}`,
    hashes: { sha256: link.sha256 },
    size: link.size,
    log: link.log,
  };
  if (link.for_entrypath) out['for_href'] = `${base}/${encodePath(link.for_entrypath)}`;
  return out;
}

/** devpi's `verdata`: metadata plus `+links` (and `+shadowing` when later stages have the version). */
export function versionView(base: string, record: ReleaseRecord, shadowing: ReleaseRecord[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record.metadata, '+links': record.links.map((l) => linkView(base, l)) };
  if (shadowing.length) out['+shadowing'] = shadowing.map((r) => versionView(base, r));
  return out;
}
