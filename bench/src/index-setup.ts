/**
 * The devpi API calls that prepare the benchmark index: create a user, log in for a token, create
 * an index. Any unexpected status throws with the server's answer.
 */
import { request } from 'undici';
import { basicAuth } from './upload-runner.js';

async function call(method: 'PUT' | 'POST', url: string, body: unknown, headers: Record<string, string>, expect: number[]): Promise<unknown> {
  const res = await request(url, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  if (!expect.includes(res.statusCode)) throw new Error(`${method} ${url} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export interface BenchIndex {
  readonly user: string;
  readonly password: string;
  readonly token: string;
  /** e.g. `/bench/dev/` */
  readonly indexPath: string;
}

export async function createBenchIndex(baseUrl: string, user: string, password: string, index: string): Promise<BenchIndex> {
  await call('PUT', `${baseUrl}/${user}`, { password }, {}, [201]);
  const login = (await call('POST', `${baseUrl}/+login`, { user, password }, {}, [200])) as { result?: { password?: unknown } };
  const token = login.result?.password;
  if (typeof token !== 'string') throw new Error('POST /+login gave no token');
  await call('PUT', `${baseUrl}/${user}/${index}`, {}, basicAuth(user, token), [200, 201]);
  return { user, password, token, indexPath: `/${user}/${index}/` };
}
