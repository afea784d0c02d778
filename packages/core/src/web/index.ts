/**
 * The web interface: HTML pages, search, documentation hosting and the status page. The face holds
 * what other packages use: the router every node mounts and the search index (benchmarks).
 */
export { createWebRouter, type WebRouter, type WebRouterDeps } from './web-router.js';
export { SearchIndex, type SearchAnswer, type SearchHit, type SearchSource } from './search-index.js';
export type { DocBlobs } from './doc-zips.js';
