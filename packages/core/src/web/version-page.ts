/**
 * `/{user}/{index}/{project}/{version}`: one release — metadata, the long description rendered
 * safely, the files (name, size, sha256, upload time, uploader, Python tags) with the test results
 * uploaded for each, documentation, and the history of every file (upload, push, overwrite).
 */
import type { ReleaseLink, ReleaseRecord } from '../model/records.js';
import { splitStage } from '../model/stage-paths.js';
import { parseFileName } from '../names.js';
import { encodePath } from '../http/simple-pages.js';
import { renderReleaseDescription } from './description.js';
import { html, type HtmlValue, type SafeHtml } from './html-template.js';
import { formatLogTime, formatSize, formatTime, href, type PageSpec } from './layout.js';
import type { ToxSummary } from './tox-results.js';

/** What the version page shows. */
export interface VersionView {
  base: string;
  user: string;
  index: string;
  project: string;
  /** display name */
  name: string;
  version: string;
  /** the stage the release comes from (the page's index or one of its bases) */
  stage: string;
  record: ReleaseRecord;
  /** stages whose same version this one hides */
  shadowing: string[];
  /** every version of the project over the resolution order, newest first */
  versions: string[];
  /** parsed test results by the toxresult link's entrypath: undefined = unreadable, 'missing' = bytes not on this node yet */
  toxResults: Map<string, ToxSummary | undefined | 'missing'>;
}

function meta(record: ReleaseRecord, key: string): string {
  const v = record.metadata[key];
  return typeof v === 'string' ? v : Array.isArray(v) ? v.join(', ') : '';
}

function list(record: ReleaseRecord, key: string): string[] {
  const v = record.metadata[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : typeof v === 'string' && v ? [v] : [];
}

function safeUrl(u: string): string | undefined {
  return /^https?:\/\//i.test(u.trim()) ? u.trim() : undefined;
}

function pythonTags(filename: string): string {
  const info = parseFileName(filename);
  if (!info) return '';
  if (info.kind === 'sdist') return 'source';
  return info.tags ?? info.kind;
}

function uploader(link: ReleaseLink): HtmlValue {
  const first = link.log.find((e) => e.what === 'upload') ?? link.log[0];
  return first?.who ?? html`<span class="muted">anonymous</span>`;
}

function toxBlock(view: VersionView, link: ReleaseLink): SafeHtml {
  const result = view.toxResults.get(link.entrypath);
  const when = formatTime(link.uploaded);
  const who = link.log[0]?.who;
  if (result === 'missing') return html`<li><span class="badge">pending</span> result of ${when} not yet on this node</li>`;
  if (result === undefined) return html`<li><span class="badge warn">unreadable</span> result uploaded ${when}: <a href="${view.base}/${encodePath(link.entrypath)}">raw</a></li>`;
  return html`${result.envs.map((env) => {
    const badge = env.outcome === 'passed' ? html`<span class="badge ok">passed</span>` : env.outcome === 'failed' ? html`<span class="badge bad">failed</span>` : html`<span class="badge">no tests</span>`;
    const where = [env.name, env.python && `Python ${env.python}`, result.platform, result.host].filter(Boolean).join(' · ');
    return html`<li><details class="result"><summary>${badge} ${where} <span class="muted">— ${when}${who ? ` by ${who}` : ''}</span></summary>${env.commands.map(
      (c) => html`<p><code>${c.command}</code> <span class="muted">(${c.phase}, exit ${c.retcode ?? '?'})</span></p>${c.output ? html`<pre class="output">${c.output}</pre>` : null}`,
    )}</details></li>`;
  })}`;
}

/** The version page. */
export function versionPage(view: VersionView): PageSpec {
  const { base, user, index, project, version, record } = view;
  const releaseFiles = record.links.filter((l) => l.rel === 'releasefile');
  const doc = record.links.find((l) => l.rel === 'doczip');
  const tox = record.links.filter((l) => l.rel === 'toxresult');
  const summary = meta(record, 'summary');
  const homepage = safeUrl(meta(record, 'home_page'));
  const projectUrls = list(record, 'project_urls').map((entry) => {
    const at = entry.indexOf(',');
    const label = at >= 0 ? entry.slice(0, at).trim() : entry;
    const url = safeUrl(at >= 0 ? entry.slice(at + 1) : entry);
    return url ? html`<li><a href="${url}" rel="nofollow noopener noreferrer">${label}</a></li>` : null;
  });
  const author = meta(record, 'author') || meta(record, 'author_email');
  const license = meta(record, 'license_expression') || meta(record, 'license');
  const stageHref = href(base, ...splitStage(view.stage));

  const filesTable = releaseFiles.length === 0
    ? html`<p class="muted">No files for this version.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">File</th><th scope="col">Python</th><th scope="col" class="num">Size</th><th scope="col">Uploaded</th><th scope="col">By</th></tr></thead><tbody>${releaseFiles.map(
        (l) => html`<tr><td><a class="filename" href="${base}/${encodePath(l.entrypath)}#sha256=${l.sha256}">${l.filename}</a><div class="hash mono" title="sha256">sha256:${l.sha256}</div></td><td class="nowrap">${pythonTags(l.filename)}${l.requires_python ? html`<br><span class="muted">${l.requires_python}</span>` : null}</td><td class="num">${formatSize(l.size)}</td><td class="nowrap">${formatTime(l.uploaded)}</td><td>${uploader(l)}</td></tr>`,
      )}</tbody></table></div>`;

  const tests = releaseFiles.filter((f) => tox.some((t) => t.for_entrypath === f.entrypath));
  const testsSection = html`<h2 id="tests">Test results</h2>${
    tests.length === 0
      ? html`<p class="muted">No test results uploaded (<code>devpi test</code> uploads them).</p>`
      : tests.map((f) => html`<h3 class="filename">${f.filename}</h3><ul class="plain">${tox.filter((t) => t.for_entrypath === f.entrypath).map((t) => toxBlock(view, t))}</ul>`)
  }`;

  const history = record.links
    .filter((l) => l.rel !== 'toxresult')
    .flatMap((l) => l.log.map((e) => ({ link: l, e })))
    .sort((a, b) => formatLogTime(a.e.when).localeCompare(formatLogTime(b.e.when)));
  const historySection = html`<h2 id="history">History</h2>${
    history.length === 0
      ? html`<p class="muted">No history.</p>`
      : html`<div class="table-wrap"><table><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">File</th><th scope="col">Who</th><th scope="col">Where</th></tr></thead><tbody>${history.map(
          ({ link, e }) => html`<tr><td class="nowrap">${formatLogTime(e.when)}</td><td>${e.what}${e.count ? ` (${e.count})` : ''}</td><td class="filename">${link.filename}</td><td>${e.who ?? html`<span class="muted">anonymous</span>`}</td><td>${e.src ? `from ${e.src} ` : ''}${e.dst ? `to ${e.dst}` : ''}</td></tr>`,
        )}</tbody></table></div>`
  }`;

  const description = renderReleaseDescription(record.metadata);
  const docHref = `${href(base, user, index, project, version)}/+doc/`;
  const aside = html`<aside>
<section><h2>Install</h2><p><code>pip install --index-url ${base}/${user}/${index}/+simple/ ${view.name}==${version}</code></p></section>
${doc ? html`<section><h2>Documentation</h2><p><a href="${docHref}">Read the documentation</a></p><p class="muted">${formatSize(doc.size)}, uploaded ${formatTime(doc.uploaded)}</p></section>` : null}
<section><h2>Details</h2><dl class="meta">
<dt>Index</dt><dd><a href="${stageHref}">${view.stage}</a>${view.shadowing.length ? html`<br><span class="muted">hides ${view.shadowing.join(', ')}</span>` : null}</dd>
${author ? html`<dt>Author</dt><dd>${author}</dd>` : null}
${license ? html`<dt>License</dt><dd>${license.length > 80 ? `${license.slice(0, 80)}…` : license}</dd>` : null}
${meta(record, 'requires_python') ? html`<dt>Python</dt><dd>${meta(record, 'requires_python')}</dd>` : null}
${meta(record, 'keywords') ? html`<dt>Keywords</dt><dd>${meta(record, 'keywords').split(/\s*,\s*/).join(', ')}</dd>` : null}
</dl></section>
${homepage || projectUrls.some(Boolean) ? html`<section><h2>Links</h2><ul class="plain">${homepage ? html`<li><a href="${homepage}" rel="nofollow noopener noreferrer">Homepage</a></li>` : null}${projectUrls}</ul></section>` : null}
${list(record, 'requires_dist').length ? html`<section><h2>Requires</h2><ul class="plain mono">${list(record, 'requires_dist').map((r) => html`<li>${r}</li>`)}</ul></section>` : null}
${list(record, 'classifiers').length ? html`<section><h2>Classifiers</h2><ul class="plain">${list(record, 'classifiers').map((c) => html`<li>${c}</li>`)}</ul></section>` : null}
<section><h2>Versions</h2><ul class="plain">${view.versions.slice(0, 30).map((v) =>
    v === version ? html`<li><strong aria-current="page">${v}</strong></li>` : html`<li><a href="${href(base, user, index, project, v)}">${v}</a></li>`,
  )}</ul>${view.versions.length > 30 ? html`<p><a href="${href(base, user, index, project)}">all ${view.versions.length} versions</a></p>` : null}</section>
</aside>`;

  return {
    title: `${view.name} ${version}`,
    crumbs: [
      { label: 'Indexes', href: `${base}/` },
      { label: user, href: href(base, user) },
      { label: index, href: href(base, user, index) },
      { label: view.name, href: href(base, user, index, project) },
      { label: version },
    ],
    body: html`<h1>${view.name} <span class="version">${version}</span></h1>
${summary ? html`<p class="lead">${summary}</p>` : null}
<div class="layout"><div>
<h2 id="description">Description</h2>
${description.value ? description : html`<p class="muted">No description.</p>`}
<h2 id="files">Files</h2>
${filesTable}
${testsSection}
${historySection}
</div>${aside}</div>`,
  };
}
