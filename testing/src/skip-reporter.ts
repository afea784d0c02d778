// A node:test reporter (`--test-reporter=<this file's dist path>`) that writes one JSON line per
// finished test — `{ outcome, name, file, reason }` with outcome `pass`, `fail`, `skip` or `todo` —
// to its destination, for scripts/run-tests.mjs to print the skipped tests and their reasons after
// the human-facing spec output. Suites (describe) are left out, as node's own counts leave them.
import type { TestEvent } from 'node:test/reporters';

/** One finished test as this reporter writes it. */
export interface TestOutcomeLine {
  readonly outcome: 'pass' | 'fail' | 'skip' | 'todo';
  readonly name: string;
  readonly file: string | undefined;
  /** The skip or todo reason (`true` when none was given → `''`). */
  readonly reason: string;
}

function outcomeOf(ev: TestEvent): TestOutcomeLine | undefined {
  if (ev.type !== 'test:pass' && ev.type !== 'test:fail') return undefined;
  const d = ev.data as { name: string; file?: string; skip?: string | boolean; todo?: string | boolean; details?: { type?: string } };
  if (d.details?.type === 'suite') return undefined;
  const reasonOf = (v: string | boolean): string => (typeof v === 'string' ? v : '');
  const base = { name: d.name, file: d.file };
  if (d.skip !== undefined && d.skip !== false) return { ...base, outcome: 'skip', reason: reasonOf(d.skip) };
  if (d.todo !== undefined && d.todo !== false) return { ...base, outcome: 'todo', reason: reasonOf(d.todo) };
  return { ...base, outcome: ev.type === 'test:pass' ? 'pass' : 'fail', reason: '' };
}

/** The reporter: node:test events in, JSON lines out. */
export default async function* skipReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const ev of source) {
    const line = outcomeOf(ev);
    if (line) yield `${JSON.stringify(line)}\n`;
  }
}
