/** The proxy's Prometheus metrics (`GET /+metrics`), one registry per proxy (no global default registry). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Backend } from './backends.js';

/** The registry and the instruments the request path updates. */
export interface ProxyMetrics {
  registry: Registry;
  /** Answers forwarded, by backend name, kind (`read`/`write`) and status class (`2xx`…). */
  requests: Counter<'backend' | 'kind' | 'status'>;
  /** Read attempts dropped for a retryable failure — counted also for the last one, after which no retry follows. */
  retries: Counter;
  /** Requests the proxy answered 503 itself, by kind. */
  rejected: Counter<'kind'>;
  /** Seconds from request to response close, by kind. */
  latency: Histogram<'kind'>;
}

/** Builds the metrics; the per-backend gauges read `backends` at each scrape. */
export function createProxyMetrics(backends: readonly Backend[]): ProxyMetrics {
  const registry = new Registry();
  const requests = new Counter({ name: 'wheelhouse_proxy_requests_total', help: 'requests by backend, kind and status class', labelNames: ['backend', 'kind', 'status'] as const, registers: [registry] });
  const retries = new Counter({ name: 'wheelhouse_proxy_retries_total', help: 'reads retried on another backend', registers: [registry] });
  const rejected = new Counter({ name: 'wheelhouse_proxy_unavailable_total', help: 'requests answered 503 by the proxy (no backend)', labelNames: ['kind'] as const, registers: [registry] });
  const latency = new Histogram({ name: 'wheelhouse_proxy_request_duration_seconds', help: 'time to response end', labelNames: ['kind'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30], registers: [registry] });
  for (const [name, help, value] of [
    ['wheelhouse_proxy_backend_up', 'backend usable (1) or not (0)', (b: Backend) => (b.usable(Date.now()) ? 1 : 0)],
    ['wheelhouse_proxy_backend_serial', 'last serial seen from the backend', (b: Backend) => b.serial],
    ['wheelhouse_proxy_backend_outstanding', 'requests in flight', (b: Backend) => b.outstanding],
    ['wheelhouse_proxy_backend_ejections', 'passive ejections since start', (b: Backend) => b.ejections],
    ['wheelhouse_proxy_backend_epoch', 'epoch the backend announced last (0 unknown)', (b: Backend) => b.epoch],
    ['wheelhouse_proxy_backend_fenced', 'backend announced itself fenced (1) or not (0)', (b: Backend) => (b.announcedRole === 'fenced' ? 1 : 0)],
  ] as const) {
    new Gauge({ name, help, labelNames: ['backend'] as const, registers: [registry], collect() { for (const b of backends) this.set({ backend: b.name }, value(b)); } });
  }
  return { registry, requests, retries, rejected, latency };
}

/** Counts one answer of a backend (`isRead`: a read; `status`: its HTTP status, counted by class). */
export type AnswerCounter = (b: Backend, isRead: boolean, status: number) => void;

/**
 * The counter of answers both request paths share: label children per (backend, kind, status
 * class) made on first use and kept, so an answer costs one `inc()` and no label hashing.
 */
export function answerCounter(requests: ProxyMetrics['requests']): AnswerCounter {
  const children = new Map<Backend, Array<{ inc(): void } | undefined>>();
  return (b, isRead, status) => {
    const cls = Math.min(5, Math.max(1, Math.floor(status / 100)));
    let list = children.get(b);
    if (!list) children.set(b, (list = []));
    const i = (isRead ? 0 : 5) + cls - 1;
    (list[i] ??= requests.labels({ backend: b.name, kind: isRead ? 'read' : 'write', status: `${cls}xx` })).inc();
  };
}
