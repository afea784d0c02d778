/**
 * Prometheus metrics (`/+metrics`, prom-client) of one node, on a registry of its own (no global
 * state, so several nodes can live in one test process): request counts and latency histogram by
 * method and status class, the changelog head and commit/apply count, plus gauges each role adds
 * (replication lag, file queue, feed connections) as pull-time callbacks.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PageSource } from './simple-pages.js';

/** A gauge whose value is read when metrics are scraped. */
export interface PulledGauge {
  name: string;
  help: string;
  value: () => number;
}

/** The metrics of one node. */
export interface NodeMetrics {
  registry: Registry;
  /** Records one finished request (duration in ms). */
  observeRequest(method: string, status: number, ms: number): void;
  /** Sends the exposition text. */
  send(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** Builds the metrics of a node with role-specific gauges. */
export function createNodeMetrics(state: PageSource, gauges: PulledGauge[] = []): NodeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'wheelhouse_' });
  const duration = new Histogram({
    name: 'wheelhouse_http_request_duration_seconds',
    help: 'HTTP request duration by method and status class',
    labelNames: ['method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  new Gauge({ name: 'wheelhouse_changelog_serial', help: 'head serial of this node', registers: [registry], collect() { this.set(state.head); } });
  const commits = new Counter({ name: 'wheelhouse_changelog_records_total', help: 'records committed or applied since start', registers: [registry] });
  state.onCommit(() => commits.inc());
  for (const g of gauges) {
    new Gauge({ name: g.name, help: g.help, registers: [registry], collect() { this.set(g.value()); } });
  }
  // one labelled child per (method, status class), made on first use: a request costs no label object
  const children = new Map<string, Array<Histogram.Internal<'method' | 'status'> | undefined>>();
  for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OTHER']) children.set(m, []);
  const other = children.get('OTHER')!;
  return {
    registry,
    observeRequest(method, status, ms) {
      const byClass = children.get(method) ?? other;
      const cls = Math.floor(status / 100);
      let child = byClass[cls];
      if (!child) {
        child = duration.labels(byClass === other ? 'OTHER' : method, `${cls}xx`);
        byClass[cls] = child;
      }
      child.observe(ms / 1000);
    },
    async send(_req, res) {
      const body = await registry.metrics();
      res.statusCode = 200;
      res.setHeader('Content-Type', registry.contentType);
      res.end(body);
    },
  };
}
