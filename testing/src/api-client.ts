// A tiny JSON client for Wheelhouse's devpi-compatible HTTP API, as the e2e tests and benchmarks use it: every call
// returns status, reason phrase, headers, the body as text and (when it parses) as JSON, and the
// X-Devpi-Serial header as a number. It never throws on an HTTP error status; tests assert on it.

import { fetch as undiciFetch, type Dispatcher, type RequestInit as UndiciRequestInit } from 'undici';

/** Credentials as devpi clients send them: HTTP Basic (pip, twine) or X-Devpi-Auth (devpi-client). */
export type Credentials =
  | { readonly user: string; readonly password: string }
  | { readonly user: string; readonly token: string };

export interface ApiResponse {
  readonly status: number;
  /** The HTTP reason phrase; devpi puts upload error messages here because twine prints it. */
  readonly statusText: string;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
  /** X-Devpi-Serial, when the response carries it. */
  readonly serial: number | undefined;
}

export interface RequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Send these bytes as the body instead of JSON-encoding `body` (malformed JSON, multipart, …). */
  readonly rawBody?: string | Uint8Array;
  readonly redirect?: 'follow' | 'manual';
  readonly timeoutMs?: number;
}

export function authHeaders(auth: Credentials | undefined): Record<string, string> {
  if (!auth) return {};
  if ('token' in auth) {
    return { 'X-Devpi-Auth': Buffer.from(`${auth.user}:${auth.token}`, 'utf8').toString('base64') };
  }
  return { Authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`, 'utf8').toString('base64')}` };
}

export function serialOf(headers: Headers): number | undefined {
  const raw = headers.get('x-devpi-serial');
  if (raw === null || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) ? n : undefined;
}

/** The `message` of a devpi JSON error body, if there is one. */
export function messageOf(res: ApiResponse): string | undefined {
  const j = res.json;
  if (j !== null && typeof j === 'object' && 'message' in j) {
    const m = (j as { message: unknown }).message;
    if (typeof m === 'string') return m;
  }
  return undefined;
}

/** `result` of a devpi JSON envelope `{"type": …, "result": …}`. */
export function resultOf<T = Record<string, unknown>>(res: ApiResponse): T {
  const j = res.json;
  if (j === null || typeof j !== 'object' || !('result' in j)) {
    throw new Error(`expected a JSON envelope with "result", got ${res.status}: ${res.text.slice(0, 500)}`);
  }
  return (j as { result: T }).result;
}

export function describeResponse(res: ApiResponse): string {
  return `${res.status} ${res.statusText} ${res.text.slice(0, 800)}`;
}

export class ApiClient {
  /** `dispatcher`: an undici dispatcher for every request (e.g. an Agent trusting a test CA for https). */
  constructor(
    readonly baseUrl: string,
    readonly auth?: Credentials,
    readonly dispatcher?: Dispatcher,
  ) {}

  as(auth: Credentials | undefined): ApiClient {
    return new ApiClient(this.baseUrl, auth, this.dispatcher);
  }

  url(path: string): string {
    return new URL(path, this.baseUrl).toString();
  }

  async request(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders(this.auth), ...opts.headers };
    let payload: string | Uint8Array | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json';
    }
    const init: RequestInit = {
      method,
      headers,
      redirect: opts.redirect ?? 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    };
    if (payload !== undefined) init.body = payload;
    const res = this.dispatcher ? ((await undiciFetch(this.url(path), { ...(init as unknown as UndiciRequestInit), dispatcher: this.dispatcher })) as unknown as Response) : await fetch(this.url(path), init);
    const text = await res.text();
    let json: unknown = undefined;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: res.status, statusText: res.statusText, headers: res.headers, text, json, serial: serialOf(res.headers) };
  }

  get(path: string, opts?: RequestOptions): Promise<ApiResponse> {
    return this.request('GET', path, undefined, opts);
  }
  put(path: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse> {
    return this.request('PUT', path, body, opts);
  }
  patch(path: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse> {
    return this.request('PATCH', path, body, opts);
  }
  post(path: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse> {
    return this.request('POST', path, body, opts);
  }
  delete(path: string, opts?: RequestOptions): Promise<ApiResponse> {
    return this.request('DELETE', path, undefined, opts);
  }

  /** POST /+login; returns the token (result.password). Throws unless the server answers 200. */
  async login(user: string, password: string): Promise<string> {
    const res = await this.as(undefined).post('/+login', { user, password });
    if (res.status !== 200) throw new Error(`login of ${user} failed: ${describeResponse(res)}`);
    const token = resultOf<{ password?: unknown }>(res).password;
    if (typeof token !== 'string' || token === '') throw new Error(`login of ${user}: no token in ${res.text}`);
    return token;
  }

  /** The store's current serial, from GET /+status (`result.serial`). */
  async statusSerial(): Promise<number> {
    const res = await this.as(undefined).get('/+status');
    if (res.status !== 200) throw new Error(`GET /+status: ${describeResponse(res)}`);
    const serial = resultOf<{ serial?: unknown }>(res).serial;
    if (typeof serial !== 'number') throw new Error(`GET /+status has no numeric result.serial: ${res.text}`);
    return serial;
  }
}
