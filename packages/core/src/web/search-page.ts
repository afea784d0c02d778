/** `/+search?query=…`: ranked hits over every index (see `search-index.ts`). */
import { html } from './html-template.js';
import { href, type PageSpec } from './layout.js';
import type { SearchAnswer } from './search-index.js';
import { splitStage } from '../model/stage-paths.js';

/** The search results page. */
export function searchPage(base: string, query: string, answer: SearchAnswer): PageSpec {
  const q = query.trim();
  const heading = q ? html`Results for “${q}”` : html`Search`;
  const count = answer.total === 1 ? '1 project' : `${answer.total} projects`;
  return {
    title: q ? `Search: ${q}` : 'Search',
    query: q,
    crumbs: [{ label: 'Indexes', href: `${base}/` }, { label: 'Search' }],
    body: html`<h1>${heading}</h1>
${answer.updating ? html`<p class="banner warn" role="status">The search index is still catching up with recent changes; results may be incomplete.</p>` : null}
${!q
  ? html`<p class="lead">Search project names, summaries, descriptions and keywords in every index.</p>`
  : answer.hits.length === 0
    ? html`<p class="lead">No project matches. Try fewer or shorter words.</p>`
    : html`<p class="muted" role="status">${count}${answer.total > answer.hits.length ? `, best ${answer.hits.length} shown` : ''}</p>
<ul class="cards">${answer.hits.map((h) => {
        const [u, i] = splitStage(h.stage);
        const target = h.version ? href(base, u, i, h.project, h.version) : href(base, u, i, h.project);
        return html`<li><div class="title"><a href="${target}">${h.name}</a> ${h.version ? html`<span class="muted">${h.version}</span>` : null} <a class="badge" href="${href(base, u, i)}">${h.stage}</a></div>${h.summary ? html`<p>${h.summary}</p>` : null}</li>`;
      })}</ul>`}`,
  };
}
