/**
 * Test results as `devpi test` uploads them (tox's JSON report, `reportversion` 1): per test
 * environment the setup and test commands with return codes and output. Parsed leniently — a result
 * that does not have this shape is shown as "unreadable", never as passed.
 */

/** One command of a test environment. */
export interface ToxCommand {
  phase: 'setup' | 'test';
  command: string;
  retcode: number | undefined;
  output: string;
}

/** One test environment (`py311`, …). */
export interface ToxEnv {
  name: string;
  /** passed: every command returned 0 and there was a test command; failed: any non-zero; unknown otherwise */
  outcome: 'passed' | 'failed' | 'unknown';
  python: string;
  commands: ToxCommand[];
}

/** A parsed test result. */
export interface ToxSummary {
  host: string;
  platform: string;
  envs: ToxEnv[];
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map((x) => String(x)).join(' ');
  if (typeof v === 'number') return String(v);
  return '';
}

function commands(v: unknown, phase: ToxCommand['phase']): ToxCommand[] {
  if (!Array.isArray(v)) return [];
  return v.map((c) => {
    const o = obj(c);
    const rc = o['retcode'];
    const n = typeof rc === 'number' ? rc : typeof rc === 'string' && rc.trim() !== '' ? Number(rc) : Number.NaN;
    return { phase, command: text(o['command']), retcode: Number.isFinite(n) ? n : undefined, output: text(o['output']) };
  });
}

/** Parses a test result's JSON bytes; undefined when it is not a tox report. */
export function parseToxResult(bytes: Uint8Array): ToxSummary | undefined {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  const root = obj(data);
  const testenvs = obj(root['testenvs']);
  if (Object.keys(testenvs).length === 0) return undefined;
  const envs: ToxEnv[] = Object.entries(testenvs).map(([name, raw]) => {
    const env = obj(raw);
    const cmds = [...commands(env['setup'], 'setup'), ...commands(env['test'], 'test')];
    const failed = cmds.some((c) => c.retcode !== undefined && c.retcode !== 0);
    const ran = cmds.some((c) => c.phase === 'test' && c.retcode === 0);
    const python = obj(env['python']);
    return { name, outcome: failed ? 'failed' : ran ? 'passed' : 'unknown', python: text(python['version']).split(' ')[0] ?? '', commands: cmds };
  });
  return { host: text(root['host']), platform: text(root['platform']), envs };
}
