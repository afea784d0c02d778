/** `/+status` for people: this node's status object (the one JSON `/+status` returns) as a page. */
import { pageOf, type PageRequest, type PageResult } from './page-result.js';
import { renderStatusBody } from './status-page.js';

/** The status page of `status` (the node's `/+status` result object). */
export function statusHandler(status: Record<string, unknown>, req: PageRequest): PageResult {
  return pageOf({ title: 'Status', crumbs: [{ label: 'Indexes', href: `${req.base}/` }, { label: 'Status' }], body: renderStatusBody(status) });
}
