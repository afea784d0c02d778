/**
 * A tagged template for HTML that escapes every interpolated value unless it is already
 * {@link SafeHtml} (the result of another `html` template, or of the sanitiser). Pages are built
 * only from these, so forgetting to escape a user-supplied string is not possible by construction.
 */
import { escapeHtml } from '../http/html.js';

/** A string of HTML that is safe to insert as is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What a template accepts: text (escaped), safe HTML, numbers, lists of those; null/undefined/false render nothing. */
export type HtmlValue = string | number | SafeHtml | null | undefined | false | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Builds safe HTML: literal parts as written, interpolations escaped (see module doc). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Marks a string as safe HTML. Only for output of the sanitiser or of constant markup. */
export function trustedHtml(value: string): SafeHtml {
  return new SafeHtml(value);
}
