// The proxy's view of its backends, read from its `/+status`, and a wait for a wanted state.
import { waitFor } from './wait-for.js';

/** One backend as the proxy's `/+status` lists it. */
export interface ProxyBackendStatus {
  readonly name: string;
  readonly url: string;
  readonly role: 'master' | 'replica';
  readonly usable: boolean;
  readonly up: boolean;
  readonly draining: boolean;
  readonly ejected: boolean;
  readonly serial: number;
  readonly 'last-error': string | null;
}

/** `GET <proxyUrl>/+status` → its backends. @throws on a non-200 answer. */
export async function proxyBackends(proxyUrl: string): Promise<ProxyBackendStatus[]> {
  const res = await fetch(`${proxyUrl}/+status`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${proxyUrl}/+status: ${res.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { result: { backends: ProxyBackendStatus[] } }).result.backends;
}

/** Waits (polling every 50 ms) until `usable` is as given for each named backend (`master`, `replica1`…). */
export async function waitProxyBackends(proxyUrl: string, want: Readonly<Record<string, boolean>>, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => {
    const list = await proxyBackends(proxyUrl);
    return Object.entries(want).every(([name, usable]) => list.find((b) => b.name === name)?.usable === usable);
  }, { what: `proxy backends ${JSON.stringify(want)}`, timeoutMs, intervalMs: 50 });
}
