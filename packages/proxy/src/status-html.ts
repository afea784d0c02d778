/**
 * The proxy's `/+status` for people (a browser's `Accept: text/html`): a verdict line and one row
 * per backend. Self-contained (inline style, no script) so the proxy needs nothing from core.
 */

function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Renders the proxy's status object as a page. */
export function proxyStatusHtml(status: { backends: Array<Record<string, unknown>>; [k: string]: unknown }): string {
  const backends = status.backends;
  const down = backends.filter((b) => b['usable'] !== true);
  const masterDown = backends.some((b) => b['role'] === 'master' && b['usable'] !== true);
  const readable = backends.some((b) => b['usable'] === true);
  const level = !readable ? 'bad' : down.length ? 'warn' : 'ok';
  const verdict = !readable
    ? 'Unhealthy: no backend can serve reads'
    : masterDown
      ? 'Needs attention: the master is unavailable — installs work, uploads are refused'
      : down.length
        ? `Needs attention: ${down.map((b) => esc(b['name'])).join(', ')} out of rotation`
        : 'Healthy: every backend is in rotation';
  const rows = backends
    .map((b) => {
      const state = b['usable'] === true ? '<span class="ok">in rotation</span>' : b['draining'] === true ? '<span class="warn">draining</span>' : b['ejected'] === true ? '<span class="bad">ejected</span>' : '<span class="bad">down</span>';
      return `<tr><td>${esc(b['name'])}</td><td>${esc(b['role'])}</td><td><a href="${esc(b['url'])}/+status">${esc(b['url'])}</a></td><td>${state}</td><td class="n">${esc(b['serial'])}</td><td class="n">${esc(b['lag-serials'] ?? '')}</td><td class="n">${esc(b['outstanding'])}</td><td>${esc(b['last-error'] ?? '')}</td></tr>`;
    })
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Proxy status · Wheelhouse</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#1d2125;background:#fbfbfa}
h1{font-size:1.6rem}.banner{padding:.9rem 1.1rem;border-radius:8px;font-weight:600;margin-bottom:1.2rem}
.banner.ok{background:#dcf5e3;color:#116329}.banner.warn{background:#fff1cc;color:#7a4a00}.banner.bad{background:#ffe3e6;color:#a40e26}
.wrap{overflow-x:auto;border:1px solid #d8dde3;border-radius:8px;background:#fff}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.5rem .75rem;border-bottom:1px solid #d8dde3}th{font-size:.85rem;color:#586069;text-transform:uppercase}
td.n{text-align:right}.ok{color:#116329;font-weight:600}.warn{color:#7a4a00;font-weight:600}.bad{color:#a40e26;font-weight:600}a{color:#0b5cad}
</style></head><body><main>
<h1>Wheelhouse proxy</h1>
<p class="banner ${level}" role="status">${verdict}</p>
<p>Write serial seen: ${esc(status['write-serial'])}</p>
<div class="wrap"><table><thead><tr><th scope="col">Backend</th><th scope="col">Role</th><th scope="col">URL</th><th scope="col">State</th><th scope="col">Serial</th><th scope="col">Lag</th><th scope="col">In flight</th><th scope="col">Last error</th></tr></thead><tbody>${rows}</tbody></table></div>
</main></body></html>
`;
}
