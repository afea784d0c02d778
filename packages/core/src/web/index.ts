/** The web interface: HTML pages, search, documentation hosting and the status page. */
export { createWebRouter, wantsHtml, DOC_CSP, type WebRouter, type WebRouterDeps } from './web-router.js';
export { SearchIndex, type SearchAnswer, type SearchHit, type SearchSource } from './search-index.js';
export { renderDescription, sanitizeDescriptionHtml, descriptionFormat, type DescriptionFormat } from './description.js';
export { DocZips, cleanDocPath, cleanEntryName, type DocBlobs, type DocEntry } from './doc-zips.js';
export { statusVerdict, renderStatusBody, type StatusVerdict } from './status-page.js';
export { parseToxResult, type ToxSummary, type ToxEnv, type ToxCommand } from './tox-results.js';
