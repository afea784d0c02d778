/**
 * The browsing pages above a release: all indexes (`/`), a user (`/{user}`), an index with its
 * projects (`/{user}/{index}`) and a project with its versions (`/{user}/{index}/{project}`).
 * Each returns a page spec for the layout; reads are synchronous lookups in the current state.
 */
import { getIndex, resolutionOrder, stageProjectNames } from '../model/indexes.js';
import type { IndexConfig, ReleaseRecord } from '../model/records.js';
import { keys } from '../model/keys.js';
import { splitStage } from '../model/stage-paths.js';
import { getProject, mergedReleases, stageVersions } from '../model/releases.js';
import type { StateReader } from '../model/state.js';
import { listIndexNames, listUserNames, requireUser } from '../model/users.js';
import { latestVersion } from '../versions.js';
import { html, type HtmlValue, type SafeHtml } from './html-template.js';
import { formatTime, href, type PageSpec } from './layout.js';

/** Projects per page of an index listing. */
const PROJECTS_PER_PAGE = 200;

function bases(cfg: IndexConfig): string[] {
  return 'bases' in cfg && Array.isArray(cfg.bases) ? cfg.bases : [];
}

function meta(record: ReleaseRecord | undefined, key: string): string {
  const v = record?.metadata[key];
  return typeof v === 'string' ? v : '';
}

function volatileBadge(cfg: IndexConfig): SafeHtml {
  return cfg.volatile
    ? html`<span class="badge warn" title="files can be overwritten and deleted">volatile</span>`
    : html`<span class="badge ok" title="uploaded files never change">non-volatile</span>`;
}

function stageLinks(base: string, stages: string[]): HtmlValue {
  if (stages.length === 0) return html`<span class="muted">none</span>`;
  return stages.map((s, i) => html`${i ? ', ' : ''}<a href="${href(base, ...splitStage(s))}">${s}</a>`);
}

function indexTable(base: string, state: StateReader, stages: string[]): SafeHtml {
  if (stages.length === 0) return html`<p class="muted">No indexes yet.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">Index</th><th scope="col">Type</th><th scope="col">Bases</th><th scope="col" class="num">Projects</th></tr></thead><tbody>${stages.map((stage) => {
    const [u, i] = splitStage(stage);
    const cfg = getIndex(state, u, i)!;
    const title = typeof cfg.title === 'string' && cfg.title ? html`<br><span class="muted">${cfg.title}</span>` : null;
    return html`<tr><td><a class="filename" href="${href(base, u, i)}">${stage}</a>${title}</td><td>${cfg.type} ${volatileBadge(cfg)}</td><td>${stageLinks(base, bases(cfg))}</td><td class="num">${cfg.type === 'stage' ? stageProjectNames(state, stage).length : '—'}</td></tr>`;
  })}</tbody></table></div>`;
}

/** `/`: every index of every user. */
export function rootPage(base: string, state: StateReader): PageSpec {
  const stages = listUserNames(state).flatMap((u) => listIndexNames(state, u).map((i) => `${u}/${i}`));
  const users = listUserNames(state);
  return {
    title: 'Indexes',
    body: html`<h1>Package indexes</h1>
<p class="lead">Browse the indexes of this server, or search all of them from the box above. Install with <code>pip install --index-url ${base}/USER/INDEX/+simple/ NAME</code>.</p>
${indexTable(base, state, stages)}
<h2>Users</h2>
<ul class="plain">${users.map((u) => html`<li><a href="${href(base, u)}">${u}</a></li>`)}</ul>`,
  };
}

/** `/{user}`: a user's profile and indexes. */
export function userPage(base: string, state: StateReader, user: string): PageSpec {
  const rec = requireUser(state, user);
  const stages = listIndexNames(state, user).map((i) => `${user}/${i}`);
  return {
    title: user,
    crumbs: [{ label: 'Indexes', href: `${base}/` }, { label: user }],
    body: html`<h1>${rec.title || user}</h1>
${rec.title ? html`<p class="lead">${user}</p>` : null}
${rec.description ? html`<p>${rec.description}</p>` : null}
<h2>Indexes</h2>
${indexTable(base, state, stages)}`,
  };
}

/** `/{user}/{index}`: index settings and its own projects (paged). */
export function indexPage(base: string, state: StateReader, user: string, index: string, cfg: IndexConfig, page: number): PageSpec {
  const stage = `${user}/${index}`;
  const names = cfg.type === 'stage' ? stageProjectNames(state, stage) : [];
  const pages = Math.max(1, Math.ceil(names.length / PROJECTS_PER_PAGE));
  const p = Math.min(Math.max(1, page), pages);
  const shown = names.slice((p - 1) * PROJECTS_PER_PAGE, p * PROJECTS_PER_PAGE);
  const rows = shown.map((project) => {
    const rec = getProject(state, stage, project);
    const version = latestVersion(stageVersions(state, stage, project)) ?? '';
    const release = version ? state.get<ReleaseRecord>(keys.release(stage, project, version)) : undefined;
    return html`<li><div class="title"><a href="${href(base, user, index, project)}">${rec?.display_name ?? project}</a> ${version ? html`<span class="muted">${version}</span>` : null}</div>${
      meta(release, 'summary') ? html`<p>${meta(release, 'summary')}</p>` : null
    }</li>`;
  });
  const order = resolutionOrder(state, stage).slice(1);
  const settings = html`<section><h2>Settings</h2><dl class="meta">
<dt>Type</dt><dd>${cfg.type}</dd>
<dt>Volatile</dt><dd>${volatileBadge(cfg)}</dd>
${cfg.type === 'stage' ? html`<dt>Bases</dt><dd>${stageLinks(base, bases(cfg))}</dd>
<dt>Inherits</dt><dd>${stageLinks(base, order)}</dd>
<dt>Upload</dt><dd>${cfg.acl_upload.join(', ') || html`<span class="muted">nobody</span>`}</dd>` : null}
${'mirror_url' in cfg ? html`<dt>Mirrors</dt><dd>${String(cfg.mirror_url)}</dd>` : null}
</dl></section>
<section><h2>Install</h2><p><code>pip install --index-url ${base}/${stage}/+simple/ NAME</code></p></section>`;
  const pager = pages > 1
    ? html`<nav class="pager" aria-label="Pages">${p > 1 ? html`<a href="?page=${p - 1}" rel="prev">← Previous</a>` : null}<span>Page ${p} of ${pages}</span>${p < pages ? html`<a href="?page=${p + 1}" rel="next">Next →</a>` : null}</nav>`
    : null;
  return {
    title: stage,
    crumbs: [{ label: 'Indexes', href: `${base}/` }, { label: user, href: href(base, user) }, { label: index }],
    body: html`<h1>${stage} ${volatileBadge(cfg)}</h1>
${typeof cfg.title === 'string' && cfg.title ? html`<p class="lead">${cfg.title}</p>` : null}
${typeof cfg.description === 'string' && cfg.description ? html`<p>${cfg.description}</p>` : null}
<div class="layout"><div>
<h2>Projects <span class="muted">(${names.length}${cfg.type === 'stage' && order.length ? ' in this index; more are inherited from its bases' : ''})</span></h2>
${cfg.type !== 'stage' ? html`<p class="muted">A mirror: its projects are fetched from upstream when asked for.</p>` : names.length === 0 ? html`<p class="muted">No projects uploaded to this index yet.</p>` : html`<ul class="cards">${rows}</ul>${pager}`}
</div><aside>${settings}</aside></div>`,
  };
}

/** `/{user}/{index}/{project}`: every version over the resolution order, newest first. */
export function projectPage(base: string, state: StateReader, user: string, index: string, project: string): PageSpec | undefined {
  const stage = `${user}/${index}`;
  const releases = mergedReleases(state, stage, project).reverse();
  if (releases.length === 0) return undefined;
  const latest = releases[0]!;
  const display = resolutionOrder(state, stage).map((s) => getProject(state, s, project)).find((r) => r)?.display_name ?? project;
  const rows = releases.map((r) => {
    const files = r.record.links.filter((l) => l.rel === 'releasefile');
    const uploaded = Math.max(0, ...files.map((l) => l.uploaded));
    const docs = r.record.links.some((l) => l.rel === 'doczip');
    return html`<tr><td><a class="filename" href="${href(base, user, index, project, r.version)}">${r.version}</a></td><td>${r.stage === stage ? r.stage : html`<a href="${href(base, ...splitStage(r.stage))}">${r.stage}</a>`}</td><td class="num">${files.length}</td><td class="nowrap">${formatTime(uploaded)}</td><td>${
      docs ? html`<a href="${href(base, user, index, project, r.version)}/+doc/">docs</a>` : ''
    }</td></tr>`;
  });
  const summary = meta(latest.record, 'summary');
  return {
    title: `${display} · ${stage}`,
    crumbs: [{ label: 'Indexes', href: `${base}/` }, { label: user, href: href(base, user) }, { label: index, href: href(base, user, index) }, { label: display }],
    body: html`<h1>${display}</h1>
${summary ? html`<p class="lead">${summary}</p>` : null}
<p>Latest: <a href="${href(base, user, index, project, latest.version)}">${latest.version}</a> · <code>pip install --index-url ${base}/${stage}/+simple/ ${display}</code></p>
<h2>Versions</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">Version</th><th scope="col">Index</th><th scope="col" class="num">Files</th><th scope="col">Uploaded</th><th scope="col">Docs</th></tr></thead><tbody>${rows}</tbody></table></div>`,
  };
}
