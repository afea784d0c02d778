import type { WheelhouseProcess } from './wheelhouse-process.js';

/** Samples processes' RSS (bytes, /proc) every `intervalMs` until stopped; keeps baseline and peak per node name. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  readonly peak = new Map<string, number>();
  readonly baseline = new Map<string, number>();
  samples = 0;
  constructor(private readonly nodes: readonly WheelhouseProcess[], private readonly intervalMs = 100) {
    for (const n of nodes) {
      const rss = n.rssBytes();
      if (rss !== undefined) {
        this.baseline.set(n.name, rss);
        this.peak.set(n.name, rss);
      }
    }
  }

  start(): this {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  sample(): void {
    this.samples++;
    for (const n of this.nodes) {
      const rss = n.rssBytes();
      if (rss !== undefined && rss > (this.peak.get(n.name) ?? 0)) this.peak.set(n.name, rss);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }

  /** Peak minus baseline, bytes. */
  growthBytes(name: string): number {
    return (this.peak.get(name) ?? 0) - (this.baseline.get(name) ?? 0);
  }

  describe(): string {
    const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
    return [...this.baseline.keys()].map((k) => `${k}: baseline ${mb(this.baseline.get(k) ?? 0)}, peak ${mb(this.peak.get(k) ?? 0)}`).join('; ');
  }
}
