/** The proxy's Prometheus metrics (`GET /+metrics`), one registry per proxy (no global default registry). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Backend } from './backends.js';

/** The registry and the instruments the request path updates. */
export interface ProxyMetrics {
  registry: Registry;
  /** Answers forwarded, by backend name, kind (`read`/`write`) and status class (`2xx`…); filled from `countAnswer`'s tallies at each scrape. */
  requests: Counter<'backend' | 'kind' | 'status'>;
  /** Counts an answer: a plain array slot per (backend, kind, status class), no label hashing per request. */
  countAnswer: AnswerCounter;
  /** Read attempts dropped for a retryable failure — counted also for the last one, after which no retry follows. */
  retries: Counter;
  /** Client connections the connection-level read path handed to Node's HTTP server. */
  handovers: Counter;
  /** Requests the proxy answered 503 itself, by kind. */
  rejected: Counter<'kind'>;
  /** Seconds from request to response close, by kind. */
  latency: Histogram<'kind'>;
}

/** Builds the metrics; the per-backend gauges read `backends` at each scrape. */
export function createProxyMetrics(backends: readonly Backend[]): ProxyMetrics {
  const registry = new Registry();
  // per backend: [read 1xx..5xx, write 1xx..5xx]
  const tallies = new Map<Backend, number[]>(backends.map((b) => [b, new Array<number>(10).fill(0)]));
  const countAnswer: AnswerCounter = (b, isRead, status) => {
    const cls = Math.min(5, Math.max(1, Math.floor(status / 100)));
    let t = tallies.get(b);
    if (!t) tallies.set(b, (t = new Array<number>(10).fill(0)));
    t[(isRead ? 0 : 5) + cls - 1]!++;
  };
  const requests = new Counter({
    name: 'wheelhouse_proxy_requests_total', help: 'requests by backend, kind and status class', labelNames: ['backend', 'kind', 'status'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [b, t] of tallies) {
        t.forEach((n, i) => {
          if (n > 0) this.inc({ backend: b.name, kind: i < 5 ? 'read' : 'write', status: `${(i % 5) + 1}xx` }, n);
        });
      }
    },
  });
  const retries = new Counter({ name: 'wheelhouse_proxy_retries_total', help: 'reads retried on another backend', registers: [registry] });
  const handovers = new Counter({ name: 'wheelhouse_proxy_handovers_total', help: 'client connections handed from the connection-level read path to the HTTP server (a request it does not take, or a failed read)', registers: [registry] });
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
  return { registry, requests, countAnswer, retries, handovers, rejected, latency };
}

/** Counts one answer of a backend (`isRead`: a read; `status`: its HTTP status, counted by class). */
export type AnswerCounter = (b: Backend, isRead: boolean, status: number) => void;
