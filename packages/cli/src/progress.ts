/**
 * Progress of long commands (export, import, backup, restore): a bar per phase on a terminal
 * (`cli-progress`), one line per finished phase otherwise (logs, CI).
 */
import cliProgress from 'cli-progress';

/** A progress sink: call with (phase, done, total); `finish()` at the end. */
export interface ProgressReporter {
  (phase: string, done: number, total: number): void;
  finish(): void;
}

/** Creates the reporter for stderr. */
export function createProgress(): ProgressReporter {
  const tty = process.stderr.isTTY === true;
  let phase = '';
  let bar: cliProgress.SingleBar | undefined;
  let last = { done: 0, total: 0 };
  const end = (): void => {
    if (!phase) return;
    if (bar) bar.stop();
    else process.stderr.write(`${phase}: ${last.done}/${last.total} done\n`);
    bar = undefined;
  };
  const report = ((p: string, done: number, total: number) => {
    if (p !== phase) {
      end();
      phase = p;
      if (tty) {
        bar = new cliProgress.SingleBar({ format: `${p.padEnd(10)} [{bar}] {value}/{total} {percentage}%`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
        bar.start(total, done);
      }
    }
    last = { done, total };
    bar?.update(done);
  }) as ProgressReporter;
  report.finish = () => {
    end();
    phase = '';
  };
  return report;
}
