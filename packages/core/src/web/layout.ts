/**
 * The frame of every web page: skip link, site header with the search form, breadcrumbs, the page's
 * main content and a footer naming the node that answered (role and serial). Links are absolute
 * under the server's outside URL, so pages are right behind a proxy or a path prefix.
 */
import { html, type HtmlValue, type SafeHtml } from './html-template.js';
import { STYLESHEET_PATH } from './style.js';

/** What the frame needs to know about the node. */
export interface PageContext {
  /** outside URL without trailing slash */
  base: string;
  role: string;
  serial: number;
}

/** One breadcrumb; the last one is the current page. */
export interface Crumb {
  label: string;
  href?: string;
}

/** A page to frame. */
export interface PageSpec {
  title: string;
  crumbs?: Crumb[];
  /** search box text */
  query?: string;
  body: SafeHtml;
}

const LOGO = html`<svg viewBox="0 0 32 32" aria-hidden="true" focusable="false"><circle cx="16" cy="16" r="13" fill="none" stroke="currentColor" stroke-width="3"/><circle cx="16" cy="16" r="3.5" fill="currentColor"/><path d="M16 3v26M3 16h26M6.8 6.8l18.4 18.4M25.2 6.8 6.8 25.2" stroke="currentColor" stroke-width="2"/></svg>`;

/** Path segments joined under `base`, each percent-encoded. */
export function href(base: string, ...segments: string[]): string {
  return `${base}/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

/** The whole HTML document. */
export function renderPage(ctx: PageContext, spec: PageSpec): string {
  const crumbs: Crumb[] = spec.crumbs ?? [];
  const crumbNav: HtmlValue = crumbs.length
    ? html`<nav class="crumbs" aria-label="Breadcrumb"><ol>${crumbs.map((c, i) =>
        i === crumbs.length - 1 || c.href === undefined
          ? html`<li><span aria-current="${i === crumbs.length - 1 ? 'page' : 'false'}">${c.label}</span></li>`
          : html`<li><a href="${c.href}">${c.label}</a></li>`,
      )}</ol></nav>`
    : null;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${spec.title} · Wheelhouse</title>
<link rel="stylesheet" href="${ctx.base}${STYLESHEET_PATH}">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><div class="bar">
<a class="brand" href="${ctx.base}/">${LOGO}<span>Wheelhouse</span></a>
<nav aria-label="Site"><a href="${ctx.base}/">Indexes</a><a href="${ctx.base}/+status">Status</a></nav>
<form class="search" role="search" method="get" action="${ctx.base}/+search">
<label class="visually-hidden" for="q">Search projects</label>
<input id="q" type="search" name="query" value="${spec.query ?? ''}" placeholder="Search projects" autocomplete="off">
<button type="submit">Search</button>
</form>
</div></header>
<main id="main">
${crumbNav}
${spec.body}
</main>
<footer class="site">Wheelhouse ${ctx.role} · serial ${ctx.serial}</footer>
</body>
</html>
`.value;
}

/** `YYYY-MM-DD HH:MM UTC` for ms since epoch ('' for 0/undefined). */
export function formatTime(ms: number | undefined): string {
  if (!ms) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ' UTC');
}

/** devpi's `[Y, M, D, h, m, s]` as `YYYY-MM-DD HH:MM UTC`. */
export function formatLogTime(when: readonly number[]): string {
  const [y, mo, d, h, mi, s] = when;
  return formatTime(Date.UTC(y ?? 1970, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0));
}

/** Bytes as `12.3 KB`. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
