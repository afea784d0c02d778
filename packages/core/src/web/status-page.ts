/**
 * The `/+status` page for people: a verdict at the top (healthy, or what is wrong in words), then
 * the node's role, serial, lag, master contact, file queue and — on a master — the replicas it
 * knows. Built from the same status object the JSON `/+status` returns.
 */
import { html, type HtmlValue, type SafeHtml } from './html-template.js';
import { formatTime } from './layout.js';

/** How healthy a node looks. */
export interface StatusVerdict {
  level: 'ok' | 'warn' | 'bad';
  problems: string[];
}

/** A master not contacted for longer than this makes a replica unhealthy (ms). */
const MASTER_CONTACT_LIMIT_MS = 30_000;
/** A replica the master has not heard from for longer than this is flagged (ms). */
const REPLICA_SEEN_LIMIT_MS = 90_000;

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function describeError(v: unknown): string | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  if (typeof v === 'string') return v;
  const o = v as Record<string, unknown>;
  return typeof o['message'] === 'string' ? o['message'] : JSON.stringify(v);
}

/** Judges a node's status object (see module doc). `now` in ms. */
export function statusVerdict(status: Record<string, unknown>, now = Date.now()): StatusVerdict {
  const problems: Array<[StatusVerdict['level'], string]> = [];
  const role = String(status['role'] ?? '');
  if (role === 'REPLICA') {
    const fatal = describeError(status['replication-fatal']);
    if (fatal) problems.push(['bad', `replication stopped: ${fatal}`]);
    const contact = str(status['last-master-contact']);
    const since = contact ? now - Date.parse(contact) : undefined;
    if (since === undefined) problems.push(['bad', 'the master has not been reached yet']);
    else if (since > MASTER_CONTACT_LIMIT_MS) problems.push(['bad', `no contact with the master for ${ago(since)}: reads are served from this replica's copy, writes are refused`]);
    const error = describeError(status['replication-error']);
    if (error && !fatal) problems.push([since !== undefined && since <= MASTER_CONTACT_LIMIT_MS ? 'warn' : 'bad', `replication from the master failing: ${error}`]);
    if (status['initial-sync-done'] === false) problems.push(['warn', 'initial sync with the master not done yet']);
    const lag = num(status['lag-serials']);
    if (lag !== undefined && lag > 0) problems.push(['warn', `${lag} serial${lag === 1 ? '' : 's'} behind the master`]);
    const failed = Array.isArray(status['files-failed']) ? status['files-failed'].length : 0;
    if (failed > 0) problems.push(['warn', `${failed} file${failed === 1 ? '' : 's'} could not be fetched from the master yet`]);
  }
  const fenced = status['fenced'];
  if (fenced && typeof fenced === 'object') problems.push(['bad', `${describeError(fenced) ?? 'fenced'}`]);
  if (role === 'MASTER' && Array.isArray(status['replicas'])) {
    for (const r of status['replicas'] as Array<Record<string, unknown>>) {
      const seen = str(r['lastSeen']);
      const since = seen ? now - Date.parse(seen) : undefined;
      if (r['streaming'] !== true && since !== undefined && since > REPLICA_SEEN_LIMIT_MS) {
        problems.push(['warn', `replica ${String(r['id'] ?? r['url'] ?? '?')} last seen ${ago(since)} ago`]);
      }
    }
  }
  const level = problems.some(([l]) => l === 'bad') ? 'bad' : problems.length ? 'warn' : 'ok';
  return { level, problems: problems.map(([, p]) => p) };
}

function row(label: string, value: HtmlValue): SafeHtml {
  return html`<dt>${label}</dt><dd>${value === undefined || value === null || value === '' ? html`<span class="muted">—</span>` : value}</dd>`;
}

function time(v: unknown, now: number): HtmlValue {
  const s = str(v);
  if (!s) return undefined;
  const t = Date.parse(s);
  return html`<time datetime="${s}">${formatTime(t)}</time> <span class="muted">(${ago(now - t)} ago)</span>`;
}

/** The page body for a node's status object. */
export function renderStatusBody(status: Record<string, unknown>, now = Date.now()): SafeHtml {
  const verdict = statusVerdict(status, now);
  const role = String(status['role'] ?? 'node');
  const heading = verdict.level === 'ok' ? 'Healthy' : verdict.level === 'warn' ? 'Needs attention' : 'Unhealthy';
  const banner = html`<div class="banner ${verdict.level}" role="status"><span>${heading}</span>${
    verdict.problems.length ? html`<ul>${verdict.problems.map((p) => html`<li>${p}</li>`)}</ul>` : null
  }</div>`;
  const serial = num(status['serial']);
  const node = html`<section class="panel" aria-labelledby="node-h"><h2 id="node-h">This node</h2><dl class="meta">
${row('Role', html`<span class="badge info">${role.toLowerCase()}</span>`)}
${row('Serial', serial)}
${row('Epoch', num(status['epoch']))}
${row('Leader', str(status['leader']))}
${status['fenced'] !== undefined ? row('Fenced', status['fenced'] ? html`<span class="badge bad">fenced</span> ${describeError(status['fenced'])}` : 'no') : null}
${row('Store UUID', html`<span class="mono">${str(status['uuid'])}</span>`)}
${role === 'REPLICA' ? [
    row('Master', str(status['master-url'])),
    row('Master serial', num(status['master-serial'])),
    row('Lag', num(status['lag-serials']) !== undefined ? `${num(status['lag-serials'])} serials` : undefined),
    row('Last master contact', time(status['last-master-contact'], now)),
    row('In sync at', time(status['in-sync-at'], now)),
    row('Replica id', str(status['replica-id'])),
  ] : null}
${role === 'MASTER' ? [row('Last commit', num(status['last-commit-timestamp']) ? formatTime(num(status['last-commit-timestamp'])! * 1000) : undefined), row('Started', time(status['started-at'], now))] : null}
${row('Memory (RSS)', num(status['memory-rss-bytes']) !== undefined ? `${Math.round(num(status['memory-rss-bytes'])! / 2 ** 20)} MiB` : undefined)}
</dl></section>`;

  let files: HtmlValue = null;
  if (role === 'REPLICA') {
    const failed = Array.isArray(status['files-failed']) ? (status['files-failed'] as Array<Record<string, unknown>>) : [];
    files = html`<section class="panel" aria-labelledby="files-h"><h2 id="files-h">File replication</h2><dl class="meta">
${row('Queued', num(status['files-queued']) ?? 0)}
${row('Fetched', num(status['files-fetched']) ?? 0)}
${row('Failed', failed.length)}
</dl>${failed.length ? html`<ul>${failed.slice(0, 20).map((f) => html`<li class="mono">${JSON.stringify(f)}</li>`)}</ul>` : null}</section>`;
  }

  let replicas: HtmlValue = null;
  if (role === 'MASTER') {
    const list = Array.isArray(status['replicas']) ? (status['replicas'] as Array<Record<string, unknown>>) : [];
    replicas = html`<h2>Replicas</h2>${
      list.length === 0
        ? html`<p class="muted">No replica has contacted this master since it started.</p>`
        : html`<div class="table-wrap"><table><thead><tr><th scope="col">Replica</th><th scope="col">URL</th><th scope="col" class="num">Serial</th><th scope="col" class="num">Lag</th><th scope="col">Connection</th><th scope="col">Last seen</th></tr></thead><tbody>${list.map(
            (r) => html`<tr><td>${String(r['id'] ?? '')}</td><td>${str(r['url']) ? html`<a href="${String(r['url'])}/+status">${String(r['url'])}</a>` : ''}</td><td class="num">${num(r['serial'])}</td><td class="num">${num(r['lag-serials'])}</td><td>${
              r['streaming'] === true ? html`<span class="badge ok">streaming</span>` : html`<span class="badge">polling</span>`
            }</td><td class="nowrap">${time(r['lastSeen'], now)}</td></tr>`,
          )}</tbody></table></div>`
    }`;
  }

  return html`<h1>Status</h1>
${banner}
<div class="layout"><div>${node}${files}${replicas}</div>
<aside><section><h2>Raw status</h2><p class="muted">The same data as JSON: <code>curl -H 'Accept: application/json' …/+status</code></p>
<details><summary>Show</summary><pre class="output">${JSON.stringify(status, null, 2)}</pre></details></section></aside></div>`;
}
