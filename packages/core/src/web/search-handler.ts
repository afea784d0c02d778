/**
 * `/+search?query=…` (also `?q=`): ranked hits over every index, as devpi-web's JSON
 * (`{"type": "searchresults", "result": {query, hits, total, updating}}`) for API clients that ask
 * for `application/json`, else as the search page.
 */
import type { Envelope } from '@wheelhouse/http';
import { pageOf, type PageRequest, type PageResult } from './page-result.js';
import type { SearchIndex } from './search-index.js';
import { searchPage } from './search-page.js';

/** The search answer: JSON envelope or page. */
export type SearchResultAnswer = PageResult | { kind: 'json'; envelope: Envelope };

/** Searches for `query` in the indexes `visible` accepts (default all); `json` when the client asked for JSON rather than HTML. */
export function searchHandler(search: Pick<SearchIndex, 'search'>, query: string, json: boolean, req: PageRequest, visible?: (stage: string) => boolean): SearchResultAnswer {
  const answer = search.search(query, 50, visible);
  if (json) return { kind: 'json', envelope: { type: 'searchresults', result: { query, ...answer } } };
  return pageOf(searchPage(req.base, query, answer));
}
