/**
 * Catch-up: a master store with many serials, built quickly in-process (`wheelhouse init`, then the
 * changelog opened with `sync: false` and one user followed by four indexes per five records, each a
 * few hundred bytes through the core model functions), a master started on it, then a fresh
 * replica timed from its spawn until its `/+status` serial equals the master's. The replica's RSS is
 * sampled every 100 ms and its VmHWM read at the end.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Changelog } from '@wheelhouse/changelog';
import { createIndex, createUser, hashPassword } from '@wheelhouse/core';
import { datadirPaths } from '@wheelhouse/master';
import { WheelhouseProcess, wheelhouseInit } from '@wheelhouse/testing';

export interface StoreBuild {
  readonly serials: number;
  readonly seconds: number;
}

/** `wheelhouse init` into `datadir`, then commits records until the head reaches `serials`. */
export async function buildStore(cwd: string, datadir: string, serials: number): Promise<StoreBuild> {
  const t0 = performance.now();
  await wheelhouseInit(datadir, 'catch-up-root', cwd);
  const changelog = await Changelog.open({ location: datadirPaths(datadir).db, sync: false });
  try {
    const pwhash = await hashPassword('catch-up-user-password');
    let u = 0;
    while (changelog.head < serials) {
      const user = `bench-${String(u).padStart(5, '0')}`;
      await changelog.write((tx) =>
        createUser(tx, user, {
          pwhash,
          email: `${user}@example.org`,
          title: `Benchmark user ${u}`,
          description: 'A user created by the catch-up benchmark so the replica has realistic records to apply.',
        }),
      );
      for (let i = 0; i < 4 && changelog.head < serials; i++) {
        await changelog.write((tx) =>
          createIndex(tx, user, `ix${i}`, {
            title: `${user} index ${i}`,
            description: 'An index of the catch-up benchmark: a stage with its default ACLs and a description.',
            acl_upload: [user, 'root'],
          }),
        );
      }
      u++;
    }
    return { serials: changelog.head, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await changelog.close();
  }
}

export interface CatchUpOutcome {
  readonly build: StoreBuild;
  /** Master process start on the built store until /+status answers, s. */
  readonly masterStartSeconds: number;
  readonly masterSerial: number;
  /** Replica spawn → serial equals the master's, s. */
  readonly seconds: number;
  /** Replica's first /+status answer → in sync, s (without process start). */
  readonly secondsAfterListening: number | undefined;
  /** Serial the replica had at its first /+status answer. */
  readonly serialAtFirstAnswer: number | undefined;
  readonly serialsPerSecond: number;
  readonly peakRssBytes: number | undefined;
  readonly maxSampledRssBytes: number | undefined;
  readonly masterRssBytes: number | undefined;
  /** CPU seconds (user + system) from the replica's spawn to in sync: the replica's, and the master's over the same time. */
  readonly replicaCpuSeconds: number | undefined;
  readonly masterCpuSeconds: number | undefined;
  readonly notes: string[];
}

export async function measureCatchUp(root: string, serials: number, timeoutMs: number, say: (s: string) => void): Promise<CatchUpOutcome> {
  mkdirSync(root, { recursive: true });
  const datadir = join(root, 'master-data');
  say(`catch-up: building a master store of ${serials.toLocaleString('en-US')} serials`);
  const build = await buildStore(root, datadir, serials);
  say(`catch-up: built ${build.serials} serials in ${build.seconds.toFixed(1)} s; starting its master`);
  const m0 = performance.now();
  const master = await new WheelhouseProcess({ name: 'catch-up-master', role: 'master', datadir, logPath: join(root, 'catch-up-master.log'), cwd: root }).start({ timeoutMs: 120_000 });
  const masterStartSeconds = (performance.now() - m0) / 1000;
  const notes: string[] = [];
  try {
    const masterSerial = Number((await master.status()).serial);
    say(`catch-up: master at serial ${masterSerial}; starting a fresh replica`);
    const masterCpu0 = master.cpuSeconds();
    const replica = await new WheelhouseProcess({
      name: 'catch-up-replica', role: 'replica', datadir: join(root, 'catch-up-replica'), logPath: join(root, 'catch-up-replica.log'), cwd: root,
      args: ['--master-url', master.url, '--secret-file', datadirPaths(datadir).secret],
    }).spawnNoWait();
    let maxSampled = 0;
    const sampler = setInterval(() => {
      const rss = replica.procBytes('VmRSS');
      if (rss !== undefined && rss > maxSampled) maxSampled = rss;
    }, 100);
    try {
      let firstAnswer: { at: number; serial: number } | undefined;
      let doneAt: number | undefined;
      let last = 'no answer yet';
      while (performance.now() - replica.spawnedAt < timeoutMs) {
        if (!replica.running) throw new Error(`catch-up replica exited (${replica.unexpectedExit ?? 'stopped'}): ${replica.log().slice(-2000)}`);
        try {
          const s = await replica.status();
          const serial = Number(s.serial);
          firstAnswer ??= { at: performance.now(), serial };
          if (serial >= masterSerial) {
            doneAt = performance.now();
            break;
          }
          last = `serial ${serial} of ${masterSerial}${s['replication-error'] ? `, error: ${String(s['replication-error'])}` : ''}`;
        } catch (err) {
          last = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const peakRssBytes = replica.procBytes('VmHWM');
      const replicaCpuSeconds = replica.cpuSeconds();
      const masterCpu1 = master.cpuSeconds();
      if (doneAt === undefined) throw new Error(`catch-up replica not in sync after ${timeoutMs} ms: ${last}`);
      const seconds = (doneAt - replica.spawnedAt) / 1000;
      const secondsAfterListening = firstAnswer ? (doneAt - firstAnswer.at) / 1000 : undefined;
      if (replica.unexpectedExit) notes.push(`catch-up replica died: ${replica.unexpectedExit}`);
      return {
        build,
        masterStartSeconds,
        masterSerial,
        seconds,
        secondsAfterListening,
        serialAtFirstAnswer: firstAnswer?.serial,
        serialsPerSecond: masterSerial / seconds,
        peakRssBytes,
        maxSampledRssBytes: maxSampled || undefined,
        masterRssBytes: master.procBytes('VmRSS'),
        replicaCpuSeconds,
        masterCpuSeconds: masterCpu0 !== undefined && masterCpu1 !== undefined ? masterCpu1 - masterCpu0 : undefined,
        notes,
      };
    } finally {
      clearInterval(sampler);
      await replica.stop();
      const log = replica.log().split('\n').filter((l) => l.trim() && !l.startsWith('Wheelhouse replica'));
      if (log.length) notes.push(`catch-up replica log has ${log.length} line(s); first: \`${log[0]!.slice(0, 300)}\``);
    }
  } finally {
    await master.stop();
  }
}
