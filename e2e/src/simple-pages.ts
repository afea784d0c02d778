// Reading an index's simple pages the way installers do: PEP 691 JSON and PEP 503 HTML, with file
// URLs resolved against the page URL.
export const PEP691_JSON = 'application/vnd.pypi.simple.v1+json';

export interface Pep691File {
  readonly filename: string;
  readonly url: string;
  readonly hashes: Readonly<Record<string, string>>;
  readonly 'requires-python'?: string;
  readonly size?: number;
  readonly 'upload-time'?: string;
  readonly 'core-metadata'?: boolean | Readonly<Record<string, string>>;
  readonly 'data-dist-info-metadata'?: boolean | Readonly<Record<string, string>>;
  readonly yanked?: boolean | string;
}

export interface Pep691Project {
  readonly meta: { readonly 'api-version': string };
  readonly name: string;
  readonly files: readonly Pep691File[];
  readonly versions?: readonly string[];
}

export interface Pep691List {
  readonly meta: { readonly 'api-version': string };
  readonly projects: ReadonlyArray<{ readonly name: string }>;
}

export interface FetchedPage {
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly headers: Headers;
  readonly text: string;
}

/** `http://host:port/{user}/{index}/+simple/` */
export function simpleUrl(baseUrl: string, index: string): string {
  return `${baseUrl}/${index}/+simple/`;
}

export async function fetchPage(url: string, accept: string | undefined, userAgent = 'pip/23.0.1'): Promise<FetchedPage> {
  const headers: Record<string, string> = { 'User-Agent': userAgent };
  if (accept !== undefined) headers['Accept'] = accept;
  const res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { url, status: res.status, contentType: res.headers.get('content-type') ?? '', headers: res.headers, text };
}

export async function projectJson(baseUrl: string, index: string, project: string): Promise<{ page: FetchedPage; data: Pep691Project }> {
  const page = await fetchPage(`${simpleUrl(baseUrl, index)}${project}/`, PEP691_JSON);
  if (page.status !== 200) throw new Error(`GET ${page.url} (JSON): ${page.status} ${page.text.slice(0, 500)}`);
  return { page, data: JSON.parse(page.text) as Pep691Project };
}

export async function projectListJson(baseUrl: string, index: string): Promise<{ page: FetchedPage; data: Pep691List }> {
  const page = await fetchPage(simpleUrl(baseUrl, index), PEP691_JSON);
  if (page.status !== 200) throw new Error(`GET ${page.url} (JSON): ${page.status} ${page.text.slice(0, 500)}`);
  return { page, data: JSON.parse(page.text) as Pep691List };
}

/** An absolute file URL from a (possibly relative) href on a simple page; the fragment is dropped. */
export function resolveFileUrl(pageUrl: string, href: string): string {
  const u = new URL(href, pageUrl);
  u.hash = '';
  return u.toString();
}

export interface HtmlLink {
  readonly href: string;
  readonly text: string;
  readonly attrs: Readonly<Record<string, string>>;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };

function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ent: string) => {
    if (ent[0] === '#') {
      const code = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ent.toLowerCase()] ?? whole;
  });
}

/** The anchors of a PEP 503 page, attribute values unescaped. */
export function htmlLinks(html: string): HtmlLink[] {
  const links: HtmlLink[] = [];
  for (const m of html.matchAll(/<a\s([^>]*)>([^<]*)<\/a>/gi)) {
    const attrs: Record<string, string> = {};
    for (const a of (m[1] ?? '').matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
      const name = (a[1] ?? '').toLowerCase();
      attrs[name] = unescapeHtml(a[2] ?? a[3] ?? a[4] ?? '');
    }
    links.push({ href: attrs['href'] ?? '', text: unescapeHtml((m[2] ?? '').trim()), attrs });
  }
  return links;
}
