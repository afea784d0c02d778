/**
 * Content negotiation for the simple API (PEP 691): the best of the offered media types by the
 * request's `Accept` q-values; no `Accept` (or `*\/*`) → HTML, as devpi and PyPI do.
 */

/** PEP 691 JSON media type. */
export const PEP691_JSON = 'application/vnd.pypi.simple.v1+json';
/** PEP 691 versioned HTML media type. */
export const PEP691_HTML = 'application/vnd.pypi.simple.v1+html';

/** The simple API formats we serve. */
export type SimpleFormat = 'json' | 'html';

interface Offer {
  type: string;
  format: SimpleFormat;
  /** server preference for ties (higher wins) */
  pref: number;
}

const OFFERS: Offer[] = [
  { type: PEP691_JSON, format: 'json', pref: 1 },
  { type: PEP691_HTML, format: 'html', pref: 2 },
  { type: 'text/html', format: 'html', pref: 3 },
];

const cache = new Map<string, { format: SimpleFormat; type: string } | null>();

/**
 * The format and `Content-Type` to answer with, or null when nothing offered is acceptable
 * (→ 406). Results are memoised per distinct `Accept` value (clients send few distinct ones).
 */
export function negotiateSimple(accept: string | undefined): { format: SimpleFormat; type: string } | null {
  if (!accept) return { format: 'html', type: 'text/html; charset=utf-8' };
  const hit = cache.get(accept);
  if (hit !== undefined) return hit;
  let best: { q: number; pref: number; offer: Offer } | undefined;
  for (const part of accept.split(',')) {
    const [rawType, ...params] = part.trim().split(';');
    const type = rawType!.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q' && v !== undefined) q = Number.parseFloat(v) || 0;
    }
    if (q <= 0) continue;
    for (const offer of OFFERS) {
      const matches = type === '*/*' || type === offer.type || (type === 'text/*' && offer.type === 'text/html') || (type === 'application/*' && offer.type.startsWith('application/'));
      // a wildcard counts a bit less than naming the type (RFC 9110 specificity)
      const eq = type.includes('*') ? q - 0.0001 : q;
      if (matches && (!best || eq > best.q || (eq === best.q && offer.pref > best.pref))) best = { q: eq, pref: offer.pref, offer };
    }
  }
  const result = best
    ? { format: best.offer.format, type: best.offer.type === 'text/html' ? 'text/html; charset=utf-8' : best.offer.type }
    : null;
  if (cache.size < 256) cache.set(accept, result);
  return result;
}
