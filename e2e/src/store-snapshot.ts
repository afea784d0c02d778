// What "the store is unchanged" means for the bad-input tests: the serial (from GET /+status and its
// X-Devpi-Serial header), the user list, the index's project list and one project's simple page.
import { ApiClient, resultOf } from '@wheelhouse/testing';
import { fetchPage, PEP691_JSON, simpleUrl } from './simple-pages.js';

export interface StoreSnapshot {
  readonly statusSerial: number;
  readonly headerSerial: number | undefined;
  readonly users: readonly string[];
  readonly projectList: string;
  readonly projectPageJson: string;
  readonly projectPageHtml: string;
}

export async function storeSnapshot(baseUrl: string, index: string, project: string): Promise<StoreSnapshot> {
  const api = new ApiClient(baseUrl);
  const status = await api.get('/+status');
  const statusSerial = resultOf<{ serial: number }>(status).serial;
  const root = await api.get('/');
  const users = root.status === 200 ? Object.keys(resultOf(root)).sort() : [`GET / → ${root.status}`];
  const list = await fetchPage(simpleUrl(baseUrl, index), PEP691_JSON);
  const json = await fetchPage(`${simpleUrl(baseUrl, index)}${project}/`, PEP691_JSON);
  const html = await fetchPage(`${simpleUrl(baseUrl, index)}${project}/`, 'text/html');
  return {
    statusSerial,
    headerSerial: status.serial,
    users,
    projectList: `${list.status} ${list.text}`,
    projectPageJson: `${json.status} ${json.text}`,
    projectPageHtml: `${html.status} ${html.text}`,
  };
}
