/**
 * Preload for profiling a Wheelhouse process under load (`NODE_OPTIONS=--import=<this file>`;
 * Node refuses `--cpu-prof` in NODE_OPTIONS): the first SIGUSR2 starts V8's sampling profiler, the
 * second writes `<WH_CPU_PROFILE_DIR>/<pid>-<n>.cpuprofile` (Chrome DevTools format) and stops it.
 * The inspector session of the process's own thread answers synchronously.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.WH_CPU_PROFILE_DIR ?? '.';
const session = new Session();
session.connect();
let running = false;
let n = 0;
process.on('SIGUSR2', () => {
  if (!running) {
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
    running = true;
    return;
  }
  session.post('Profiler.stop', (err, r) => {
    if (!err) writeFileSync(join(dir, `${process.pid}-${n++}.cpuprofile`), JSON.stringify(r.profile));
  });
  running = false;
});
