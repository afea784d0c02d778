/**
 * The storage part of the `/+status` page: whether the node's disk writes work (the fail-stop
 * `storage` object), the file store's size as the last garbage collection found it, that
 * collection's outcome (freed, or what held it back), the totals freed since start, and disk usage
 * per index (largest first; masters only). Built from the status object's `storage` and `disk-usage` fields
 * (master: `master/src/cleanup/maintenance.ts`, replica: `replica/src/replica-gc.ts`).
 */
import { html, type HtmlValue, type SafeHtml } from './html-template.js';
import { formatSize } from './layout.js';

/** Indexes listed on the page at most (the JSON `/+status` has all). */
export const STORAGE_INDEX_ROWS = 50;

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What is wrong with the node's storage, in words (empty when its writes work): for the verdict banner. */
export function storageProblems(status: Obj): string[] {
  const storage = obj(status['storage']);
  const state = storage?.['state'];
  if (!storage || state === 'ok' || state === undefined) return [];
  const why = typeof storage['message'] === 'string' ? `: ${storage['message']}` : '';
  return state === 'stopped'
    ? [`storage stopped, writes are refused until the node is restarted${why}`]
    : [`storage failed, writes are refused until the disk works again${why}`];
}

/** One sentence on the last collection of a `disk-usage.gc.last` report. */
function describeLastRun(last: Obj | undefined, intervalMs: number | undefined): string {
  const schedule = intervalMs === 0 ? 'on demand only (wheelhouse gc)' : intervalMs ? `every ${Math.round(intervalMs / 60_000) || '<1'} min and on demand` : 'on demand';
  if (!last) return `not run yet; runs ${schedule}`;
  const freed = `freed ${plural(num(last['freedFiles']) ?? 0, 'file')} (${formatSize(num(last['freedBytes']) ?? 0)}) of ${plural(num(last['candidates']) ?? 0, 'unnamed file')} at serial ${num(last['serial']) ?? '?'} in ${num(last['ms']) ?? '?'} ms`;
  const held = last['held'];
  const behind = Array.isArray(last['behind']) ? last['behind'].map(String) : [];
  const reason = held === 'lease' ? '; held back by a running export or backup' : held === 'followers-behind' ? `; held back by replicas not yet at that serial${behind.length ? ` (${behind.join(', ')})` : ''}` : '';
  return `${freed}${reason}; runs ${schedule}`;
}

function row(label: string, value: HtmlValue): SafeHtml {
  return html`<dt>${label}</dt><dd>${value === undefined || value === null || value === '' ? html`<span class="muted">—</span>` : value}</dd>`;
}

/** The storage section of the status page; null when the status has neither `storage` nor `disk-usage`. */
export function renderStorageSection(status: Obj): SafeHtml | null {
  const storage = obj(status['storage']);
  const usage = obj(status['disk-usage']);
  if (!storage && !usage) return null;
  const gc = obj(usage?.['gc']);
  const storeBytes = num(usage?.['store-bytes']);
  const storeFiles = num(usage?.['store-files']);
  const state = typeof storage?.['state'] === 'string' ? storage['state'] : undefined;
  const perIndex = obj(usage?.['indexes']);
  const indexes = Object.entries(perIndex ?? {})
    .map(([name, u]) => ({ name, files: num(obj(u)?.['files']) ?? 0, bytes: num(obj(u)?.['bytes']) ?? 0 }))
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  const shown = indexes.slice(0, STORAGE_INDEX_ROWS);
  const table = indexes.length === 0
    ? html`<p class="muted">No index holds files.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Index</th><th scope="col" class="num">Files</th><th scope="col" class="num">Size</th></tr></thead><tbody>${shown.map(
        (i) => html`<tr><td>${i.name}</td><td class="num">${i.files}</td><td class="num" title="${i.bytes} bytes">${formatSize(i.bytes)}</td></tr>`,
      )}</tbody></table></div>${indexes.length > shown.length ? html`<p class="muted">${indexes.length - shown.length} smaller indexes not shown (all are in the JSON status).</p>` : null}`;
  return html`<section class="panel" aria-labelledby="storage-h"><h2 id="storage-h">Storage</h2><dl class="meta">
${row('Disk writes', state === undefined ? undefined : state === 'ok' ? html`<span class="badge ok">ok</span>` : html`<span class="badge bad">${state}</span>`)}
${row('File store', storeBytes === undefined ? html`<span class="muted">not measured yet (measured by garbage collection)</span>` : html`<span title="${storeBytes} bytes">${formatSize(storeBytes)}</span> in ${plural(storeFiles ?? 0, 'file')}`)}
${gc ? row('Garbage collection', describeLastRun(obj(gc['last']), num(gc['interval-ms']))) : null}
${gc ? row('Freed since start', `${plural(num(gc['freed-files-total']) ?? 0, 'file')}, ${formatSize(num(gc['freed-bytes-total']) ?? 0)} in ${plural(num(gc['runs']) ?? 0, 'run')}`) : null}
</dl>${perIndex ? html`<h3>Disk usage per index</h3><p class="muted">Release files, docs and test results each index names, at their upload sizes; a file pushed to several indexes counts in each.</p>${table}` : null}</section>`;
}
