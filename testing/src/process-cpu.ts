/**
 * CPU time a process has used (user + system), from /proc/PID/stat (proc(5): utime and stime,
 * fields 14 and 15): dividing it by the requests served gives a per-request cost that does not
 * depend on how the cores were shared with the load generator. Linux only; undefined elsewhere.
 */
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ); 100 on every mainstream Linux build. */
const USER_HZ = 100;

/** CPU seconds of process `pid`; undefined when it is gone or /proc is not there. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / USER_HZ : undefined;
  } catch {
    return undefined;
  }
}
