/** The lines a master prints when it starts listening: where it serves, and the pip/twine URLs of each index. */
import { resolve } from 'node:path';
import type { Changelog } from '@wheelhouse/changelog';
import { getIndex, listIndexNames, listUserNames } from '@wheelhouse/core';

/** `http://host:port` (or `https://`), with an IPv6 host in brackets (RFC 3986 §3.2.2). */
export function baseUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** One line for the data directory and URL, then a pip line per index (and a twine line unless it is a mirror index, which takes no uploads). */
export function masterBanner(changelog: Changelog, datadir: string, url: string): string[] {
  const lines = [`Wheelhouse master serving ${resolve(datadir)} at ${url}`];
  for (const user of listUserNames(changelog)) {
    for (const ix of listIndexNames(changelog, user)) {
      const pip = `  pip install --index-url ${url}/${user}/${ix}/+simple/ PROJECT`;
      lines.push(getIndex(changelog, user, ix)?.type === 'mirror' ? `${pip}   (mirror)` : `${pip}   |   twine upload --repository-url ${url}/${user}/${ix}/ FILES`);
    }
  }
  return lines;
}
