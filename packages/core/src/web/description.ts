/**
 * A release's long description as safe HTML: Markdown through `marked` (GitHub flavour), then
 * through `sanitize-html` with an allow-list (no scripts, no event handlers, no `style`, links only
 * to http(s)/mailto and page anchors, images only from http(s)); reStructuredText and plain text
 * are shown as escaped, wrapped preformatted text. The content type comes from the upload's
 * `description_content_type` (PEP 566); without one, text that looks like Markdown is rendered as
 * Markdown, everything else as text (PyPI would try reStructuredText).
 */
import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { html, trustedHtml, type SafeHtml } from './html-template.js';

const marked = new Marked({ gfm: true, breaks: false, async: false });

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'blockquote', 'pre', 'code', 'kbd', 'samp', 'var',
    'em', 'strong', 'b', 'i', 'u', 's', 'del', 'ins', 'sub', 'sup', 'small', 'mark', 'abbr', 'cite', 'q',
    'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'a', 'img', 'picture', 'source',
    'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption', 'colgroup', 'col',
    'details', 'summary', 'div', 'span', 'input',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'name'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    source: ['srcset', 'media', 'type'],
    th: ['align', 'colspan', 'rowspan'],
    td: ['align', 'colspan', 'rowspan'],
    ol: ['start'],
    code: ['class'],
    abbr: ['title'],
    details: ['open'],
    // GFM task lists render disabled checkboxes
    input: ['type', 'checked', 'disabled'],
  },
  allowedClasses: { code: [/^language-[\w-]+$/] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // an image without an absolute http(s) source cannot show anything useful on the index
  exclusiveFilter: (frame) => frame.tag === 'img' && !/^https?:\/\//i.test(frame.attribs['src'] ?? ''),
  // the content of these goes too, not only the tags
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'template', 'svg', 'math'],
  transformTags: {
    a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: 'nofollow noopener noreferrer' } }),
    img: (tagName, attribs) => ({ tagName, attribs: { ...attribs, loading: 'lazy', referrerpolicy: 'no-referrer' } }),
    input: (tagName, attribs) => (attribs['type'] === 'checkbox' ? { tagName, attribs: { ...attribs, disabled: '' } } : { tagName: 'span', attribs: {} }),
  },
};
// transformTags adds these; allow them on output
SANITIZE.allowedAttributes = {
  ...(SANITIZE.allowedAttributes as Record<string, string[]>),
  a: ['href', 'title', 'name', 'rel'],
  img: ['src', 'alt', 'title', 'width', 'height', 'loading', 'referrerpolicy'],
};

/** Sanitises untrusted HTML with the allow-list above. */
export function sanitizeDescriptionHtml(untrusted: string): SafeHtml {
  return trustedHtml(sanitizeHtml(untrusted, SANITIZE));
}

/** The kind of markup a description is in. */
export type DescriptionFormat = 'markdown' | 'rst' | 'plain';

/** Reads `description_content_type` (`text/markdown; charset=UTF-8; variant=GFM`); guesses when absent. */
export function descriptionFormat(text: string, contentType: string | undefined): DescriptionFormat {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/markdown') return 'markdown';
  if (type === 'text/x-rst') return 'rst';
  if (type === 'text/plain') return 'plain';
  if (/^#{1,6}\s+\S/m.test(text) || /^```/m.test(text) || /\[[^\]]+\]\([^)]+\)/.test(text)) return 'markdown';
  if (/^(={3,}|-{3,}|~{3,})\s*$/m.test(text) || /^\.\. \w+::/m.test(text)) return 'rst';
  return 'plain';
}

/** Renders a long description to safe HTML (see module doc). Empty text renders nothing. */
export function renderDescription(text: string, contentType?: string): SafeHtml {
  if (!text.trim()) return html``;
  const format = descriptionFormat(text, contentType);
  if (format === 'markdown') {
    const rendered = marked.parse(text, { async: false });
    return html`<div class="markup markdown">${sanitizeDescriptionHtml(rendered)}</div>`;
  }
  return html`<pre class="markup text ${format}">${text}</pre>`;
}

/** A cache of rendered descriptions keyed by the (frozen, replaced-on-change) metadata object. */
const rendered = new WeakMap<object, SafeHtml>();

/** {@link renderDescription} of a release's metadata, memoised per metadata object. */
export function renderReleaseDescription(metadata: Readonly<Record<string, unknown>>): SafeHtml {
  const hit = rendered.get(metadata);
  if (hit) return hit;
  const text = typeof metadata['description'] === 'string' ? metadata['description'] : '';
  const type = typeof metadata['description_content_type'] === 'string' ? metadata['description_content_type'] : undefined;
  const out = renderDescription(text, type);
  rendered.set(metadata, out);
  return out;
}
