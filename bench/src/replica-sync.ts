/**
 * Waiting until a replica holds everything its master has: serial and release files. The benchmark
 * times it (seconds from the call), so this is the one wait whose result is a measurement.
 */
import { notYet, waitFor, type WheelhouseProcess } from '@wheelhouse/testing';

/**
 * Waits until the replica's `/+status` serial reaches the master's (read once at the call) and its
 * file queue is empty, polling every 50 ms. Returns the seconds it took.
 * @throws when the replica exits or after `timeoutMs`.
 */
export async function waitInSync(master: { status(): Promise<Record<string, unknown>> }, replica: WheelhouseProcess, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const target = Number((await master.status()).serial);
  await waitFor(async () => {
    if (!replica.running) throw new Error(`${replica.name} exited while syncing (${replica.unexpectedExit ?? 'stopped'})`);
    const s = await replica.status();
    const failed = Array.isArray(s['files-failed']) ? s['files-failed'].length : 0;
    if (Number(s.serial) >= target && s['files-queued'] === 0) return true;
    return notYet(`serial ${String(s.serial)}/${target}, files queued ${String(s['files-queued'])}, failed ${failed}`);
  }, { what: `${replica.name} in sync with serial ${target}`, timeoutMs, intervalMs: 50 });
  return (performance.now() - t0) / 1000;
}
