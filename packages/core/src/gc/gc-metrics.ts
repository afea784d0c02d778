/**
 * Prometheus metrics of garbage collection, on a node's registry (`createNodeMetrics(...).registry`):
 * `wheelhouse_store_bytes` / `wheelhouse_store_files` (the file store as the last run found it) and
 * `wheelhouse_gc_freed_bytes_total` / `wheelhouse_gc_freed_files_total` (since start).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BlobCollector } from './blob-collector.js';

/** Registers the GC metrics of `collector` (a getter, so a replica can swap generations) on `registry`. */
export function registerGcMetrics(registry: Registry, collector: () => BlobCollector): void {
  new Gauge({ name: 'wheelhouse_store_bytes', help: 'bytes of release files and other blobs in the file store (as of the last GC run)', registers: [registry], collect() { this.set(collector().storeUsage()?.bytes ?? 0); } });
  new Gauge({ name: 'wheelhouse_store_files', help: 'blobs in the file store (as of the last GC run)', registers: [registry], collect() { this.set(collector().storeUsage()?.files ?? 0); } });
  let bytesSeen = 0;
  let filesSeen = 0;
  new Counter({ name: 'wheelhouse_gc_freed_bytes_total', help: 'bytes freed by garbage collection since start', registers: [registry], collect() {
    const t = collector().totals.bytes;
    if (t > bytesSeen) this.inc(t - bytesSeen);
    bytesSeen = t;
  } });
  new Counter({ name: 'wheelhouse_gc_freed_files_total', help: 'blobs removed by garbage collection since start', registers: [registry], collect() {
    const t = collector().totals.files;
    if (t > filesSeen) this.inc(t - filesSeen);
    filesSeen = t;
  } });
}
