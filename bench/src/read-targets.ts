/**
 * The URLs the read benchmark loads, found the way pip finds them: the project's PEP 691 JSON
 * page lists its files with URLs relative to the page, and `core-metadata` marks a PEP 658
 * `.metadata` file.
 */
import { request } from 'undici';
import type { LoadTarget } from './load-run.js';

export const SIMPLE_JSON = 'application/vnd.pypi.simple.v1+json';

interface SimpleFile {
  filename: string;
  url: string;
  'core-metadata'?: unknown;
  'data-dist-info-metadata'?: unknown;
}

async function jsonPage(pageUrl: string): Promise<SimpleFile[]> {
  const res = await request(pageUrl, { headers: { accept: SIMPLE_JSON } });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${pageUrl} (JSON) answered ${res.statusCode}: ${text.slice(0, 200)}`);
  const page = JSON.parse(text) as { files?: SimpleFile[] };
  return page.files ?? [];
}

function fileUrl(pageUrl: string, file: SimpleFile): string {
  const u = new URL(file.url, pageUrl);
  u.hash = '';
  return u.toString();
}

export interface ReadTargetSpec {
  readonly baseUrl: string;
  readonly indexPath: string;
  /** Project whose page is loaded and whose `downloadFile` is fetched. */
  readonly pageProject: string;
  readonly downloadFile: string;
  /** Project and wheel whose `.metadata` is fetched. */
  readonly wheelProject: string;
  readonly wheelFile: string;
}

export async function readTargets(spec: ReadTargetSpec): Promise<{ targets: LoadTarget[]; notes: string[] }> {
  const notes: string[] = [];
  const index = `${spec.baseUrl}${spec.indexPath}`;
  const page = `${index}+simple/${spec.pageProject}/`;
  const targets: LoadTarget[] = [
    { label: `simple page HTML (\`${spec.pageProject}\`)`, url: page },
    { label: `simple page JSON (\`${spec.pageProject}\`)`, url: page, accept: SIMPLE_JSON },
    { label: 'index project list HTML (`+simple/`)', url: `${index}+simple/` },
  ];
  const files = await jsonPage(page);
  const download = files.find((f) => f.filename === spec.downloadFile);
  if (download) targets.push({ label: `file download (${spec.downloadFile})`, url: fileUrl(page, download) });
  else notes.push(`${spec.downloadFile} is not listed on the JSON page of ${spec.pageProject}: download not measured`);

  const wheelPage = `${index}+simple/${spec.wheelProject}/`;
  const wheel = (await jsonPage(wheelPage)).find((f) => f.filename === spec.wheelFile);
  if (!wheel) notes.push(`${spec.wheelFile} is not listed on the JSON page of ${spec.wheelProject}: .metadata not measured`);
  else {
    if (!wheel['core-metadata'] && !wheel['data-dist-info-metadata']) notes.push(`the JSON page does not mark ${spec.wheelFile} with core-metadata (PEP 714)`);
    targets.push({ label: `wheel \`.metadata\` (PEP 658)`, url: `${fileUrl(wheelPage, wheel)}.metadata` });
  }
  return { targets, notes };
}
