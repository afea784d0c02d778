/**
 * The dump benchmark (issue 5), `--only=dump`: a master store of 10,000 releases / 20,000 files
 * (release-store.ts), then
 * - `wheelhouse export` of it with the master stopped (direct) and running (online, read through
 *   its changelog feed), each with and without `--hard-links`: wall time from spawn to exit and the
 *   export process's peak RSS;
 * - `wheelhouse import` of the (copied) dump into a new data dir with the master's secret file;
 * - a `--follow-new-master` replica of the master, in sync; the master stopped and a master started
 *   on the imported data dir at the same port; timed from that spawn until the replica's
 *   `/+status` shows the new master's UUID, its serial and an empty files queue (switched), with the
 *   replica's peak RSS during it (VmHWM reset through /proc/PID/clear_refs before the switch) and
 *   a simple page read from the replica every poll (it must keep serving).
 * Returns one markdown section; never throws (a failure becomes a note in the section).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { datadirPaths } from '@wheelhouse/master';
import { freePort, WheelhouseProcess, type NodeSpec } from '@wheelhouse/testing';
import { waitInSync } from './replica-sync.js';
import { buildReleaseStore, projectName, STORE_INDEX, STORE_USER, type ReleaseStoreBuild } from './release-store.js';
import { f0, f1, f2 } from './results-table.js';
import { runCliTimed, treeSize, type CliRun } from './timed-cli.js';

const PROJECTS = 1_000;
const VERSIONS_PER_PROJECT = 10;
const SYNC_TIMEOUT_MS = 300_000;

type Say = (s: string) => void;

interface Row {
  readonly what: string;
  readonly run: CliRun;
  readonly detail: string;
}

const mib = (b: number | undefined): string => (b === undefined ? '—' : f0(b / 2 ** 20));

function masterSpec(root: string, name: string, datadir: string, port: number): NodeSpec {
  return { name, role: 'master', datadir, port, cwd: root, logPath: join(root, `${name}.log`) };
}

/** Resets the peak RSS (VmHWM) of a process of ours to its current RSS; false when not allowed. */
function resetPeakRss(pid: number | undefined): boolean {
  try {
    writeFileSync(`/proc/${String(pid)}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function logNotes(node: WheelhouseProcess): string[] {
  const lines = node
    .log()
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^(Wheelhouse (master|replica) |\s+pip install )/.test(l));
  if (lines.length === 0) return [];
  // distinct messages (pino's msg, else the line) with their counts
  const counts = new Map<string, number>();
  for (const l of lines) {
    let key = l.slice(0, 200);
    try {
      const j = JSON.parse(l) as { msg?: unknown; err?: unknown };
      const err = typeof j.err === 'string' ? j.err : (j.err as { message?: unknown } | undefined)?.message;
      key = `${String(j.msg ?? '')}${err ? ` (${String(err)})` : ''}`;
    } catch {
      // not JSON: the line itself
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const shown = [...counts].slice(0, 5).map(([k, n]) => `${n}× \`${k.slice(0, 300)}\``);
  return [`${node.name} log (warn) has ${lines.length} line(s): ${shown.join('; ')}`];
}

/** Runs the dump benchmark and returns its markdown section. */
export async function runDumpPart(say: Say): Promise<string> {
  const out: string[] = ['## Export, import, and a replica following a new master (issue 5)', ''];
  const notes: string[] = [];
  const rows: Row[] = [];
  const root = mkdtempSync(join(tmpdir(), 'wh-bench-dump-'));
  const nodes: WheelhouseProcess[] = [];
  const onExit = (): void => {
    for (const n of nodes) n.killNow();
  };
  process.once('exit', onExit);
  let build: ReleaseStoreBuild | undefined;
  let follow: string[] = [];
  try {
    const datadir = join(root, 'master');
    say(`dump: building a master store of ${f0(PROJECTS * VERSIONS_PER_PROJECT)} releases`);
    build = await buildReleaseStore(root, datadir, PROJECTS, VERSIONS_PER_PROJECT);
    say(`dump: built ${build.releases} releases, ${build.files} files, serial ${build.serial} in ${f1(build.seconds)} s`);
    const secret = datadirPaths(datadir).secret;

    const exportRun = async (what: string, dir: string, hardLinks: boolean, expectMode: string): Promise<void> => {
      say(`dump: export ${what}`);
      const run = await runCliTimed(['export', '--datadir', datadir, ...(hardLinks ? ['--hard-links'] : []), join(root, dir)], root, join(root, `${dir}.time`));
      if (run.code !== 0) throw new Error(`export ${what} exited ${String(run.code)}: ${run.stderr.slice(-2000)}`);
      if (!run.stdout.includes(`(${expectMode})`)) notes.push(`export ${what}: expected mode ${expectMode}, printed: \`${run.stdout.trim().slice(0, 300)}\``);
      const size = treeSize(join(root, dir));
      rows.push({ what: `export, ${what}`, run, detail: `${f0(size.files)} files, ${f1(size.bytes / 2 ** 20)} MiB${hardLinks ? ' (hard links, counted at full size)' : ''}` });
    };

    await exportRun('master stopped (direct)', 'dump-direct', false, 'direct');
    await exportRun('master stopped, `--hard-links`', 'dump-direct-links', true, 'direct');

    const port = await freePort();
    say('dump: starting the master');
    const master = await new WheelhouseProcess(masterSpec(root, 'dump-master', datadir, port)).start({ timeoutMs: 120_000 });
    nodes.push(master);
    const masterStatus = await master.status();
    await exportRun('master running (online, through its changelog feed)', 'dump-online', false, 'online');
    await exportRun('master running, `--hard-links`', 'dump-online-links', true, 'online');

    say('dump: import');
    const importDir = join(root, 'imported');
    const imp = await runCliTimed(['import', '--datadir', importDir, '--secret-file', secret, join(root, 'dump-direct')], root, join(root, 'import.time'));
    if (imp.code !== 0) throw new Error(`import exited ${String(imp.code)}: ${imp.stderr.slice(-2000)}`);
    const m = /new store uuid ([0-9a-f]+), serial (\d+)/.exec(imp.stdout);
    if (!m) throw new Error(`import printed no new store uuid and serial: ${imp.stdout.slice(0, 500)}`);
    const newUuid = m[1]!;
    const newSerial = Number(m[2]);
    rows.push({ what: 'import of the direct dump into a new data dir (verifies every file first)', run: imp, detail: `new store serial ${newSerial}` });

    // ---- a replica following the new master ------------------------------------------------------
    say('dump: starting a --follow-new-master replica and waiting until it is in sync');
    const replica = await new WheelhouseProcess({
      name: 'dump-replica',
      role: 'replica',
      datadir: join(root, 'replica'),
      cwd: root,
      logPath: join(root, 'dump-replica.log'),
      args: ['--master-url', master.url, '--secret-file', secret, '--follow-new-master'],
    }).spawnNoWait();
    nodes.push(replica);
    const initialSync = await waitInSync(master, replica, SYNC_TIMEOUT_MS);
    const initialPeak = replica.procBytes('VmHWM');
    const initialRss = replica.procBytes('VmRSS');
    const pagePath = `/${STORE_USER}/${STORE_INDEX}/+simple/${projectName(0)}/`;

    say('dump: stopping the master, starting one on the imported data dir at the same port');
    await master.stop();
    const peakReset = resetPeakRss(replica.pid);
    const newMaster = await new WheelhouseProcess(masterSpec(root, 'dump-new-master', importDir, port)).spawnNoWait();
    nodes.push(newMaster);
    let maxSampled = 0;
    let pageReads = 0;
    let pageFailures = 0;
    let seenBuilding = false;
    let newMasterUpAt: number | undefined;
    let switchedAt: number | undefined;
    let last = 'no answer yet';
    while (performance.now() - newMaster.spawnedAt < SYNC_TIMEOUT_MS) {
      if (!replica.running) throw new Error(`the replica exited during the switch (${replica.unexpectedExit ?? 'stopped'}): ${replica.log().slice(-2000)}`);
      if (!newMaster.running) throw new Error(`the new master exited (${newMaster.unexpectedExit ?? 'stopped'}): ${newMaster.log().slice(-2000)}`);
      const rss = replica.procBytes('VmRSS');
      if (rss !== undefined && rss > maxSampled) maxSampled = rss;
      if (newMasterUpAt === undefined) {
        try {
          if ((await newMaster.status()).uuid === newUuid) newMasterUpAt = performance.now();
        } catch {
          // not listening yet
        }
      }
      try {
        const s = await replica.status();
        if (s['building-next']) seenBuilding = true;
        if (s['master-uuid'] === newUuid && Number(s.serial) >= newSerial && s['files-queued'] === 0) {
          switchedAt = performance.now();
          break;
        }
        const next = s['building-next'] as Record<string, unknown> | undefined;
        last = `serving master-uuid ${String(s['master-uuid'])} serial ${String(s.serial)}${next ? `; building ${String(next['master-uuid'])}: serial ${String(next.serial)}/${String(next['master-serial'])}, files queued ${String(next['files-queued'])}` : ''}`;
      } catch (err) {
        last = (err as Error).message;
      }
      try {
        const res = await request(`${replica.url}${pagePath}`, { headers: { accept: 'text/html' }, headersTimeout: 5_000, bodyTimeout: 5_000 });
        await res.body.arrayBuffer();
        pageReads++;
        if (res.statusCode !== 200) pageFailures++;
      } catch {
        pageReads++;
        pageFailures++;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (switchedAt === undefined) throw new Error(`the replica did not switch to the new master within ${SYNC_TIMEOUT_MS} ms: ${last}`);
    const switchPeak = peakReset ? replica.procBytes('VmHWM') : undefined;
    const switchSeconds = (switchedAt - newMaster.spawnedAt) / 1000;
    const afterUp = newMasterUpAt !== undefined ? (switchedAt - newMasterUpAt) / 1000 : undefined;

    follow = [
      '### Replica following the new master',
      '',
      '| step | seconds | replica peak RSS MiB | note |',
      '|---|---:|---:|---|',
      `| initial sync of the \`--follow-new-master\` replica from the old master (spawn → serial ${String(masterStatus.serial)}, files queue empty) | ${f2(initialSync)} | ${mib(initialPeak)} (VmHWM) | RSS then ${mib(initialRss)} MiB |`,
      `| **new master spawned → replica switched** (its \`/+status\` has the new \`master-uuid\`, serial ${newSerial}, files queue empty) | **${f2(switchSeconds)}** | **${peakReset ? mib(switchPeak) : mib(maxSampled)}** ${peakReset ? '(VmHWM, reset at the new master’s spawn)' : '(max sampled every ~50 ms)'} | max sampled RSS ${mib(maxSampled)} MiB; ${seenBuilding ? '`building-next` seen' : '`building-next` never seen in /+status'} |`,
      `| of which: new master answering /+status → switched | ${afterUp === undefined ? '—' : f2(afterUp)} | | new master start ${newMasterUpAt === undefined ? '—' : f2((newMasterUpAt - newMaster.spawnedAt) / 1000)} s |`,
      '',
      `Simple page \`${pagePath}\` read from the replica after each status poll during the switch: ${pageReads} reads, ${pageFailures} not 200. The replica's generations share one content-addressed file store, so the new master's files (the same bytes) were already there: the switch rebuilt the changelog state only.`,
      '',
    ];
    for (const n of nodes) notes.push(...logNotes(n));
  } catch (err) {
    notes.push(`dump benchmark stopped early: ${(err as Error).stack ?? String(err)}`);
  } finally {
    for (const n of nodes) await n.stop();
    process.removeListener('exit', onExit);
    rmSync(root, { recursive: true, force: true });
  }

  if (build) {
    out.push(
      `- master store: \`wheelhouse init\`, then built in-process (changelog with \`sync: false\`, one record per release through \`attachFile\`): ${f0(build.releases)} releases of ${f0(PROJECTS)} projects in one stage \`${STORE_USER}/${STORE_INDEX}\`, ${f0(build.files)} release files (\`.tar.gz\` + \`.zip\` per release, random 2–8 KB, ${f1(build.fileBytes / 2 ** 20)} MiB in all), serial ${build.serial}; built in ${f1(build.seconds)} s`,
      '- every command is a child process (`node bin/wheelhouse …`), timed from spawn to exit (node start-up included); peak RSS is the child’s maximum resident set size (`/usr/bin/time -v`, or VmHWM polled every 50 ms); nodes run with `--log-level warn` on 127.0.0.1; everything on the same disk under the temp dir',
      '',
    );
  }
  if (rows.length) {
    out.push('### Export and import', '');
    out.push('| command | seconds | peak RSS MiB | CPU s user / system | output |', '|---|---:|---:|---:|---|');
    for (const r of rows) out.push(`| ${r.what} | **${f2(r.run.seconds)}** | **${mib(r.run.peakRssBytes)}** | ${r.run.cpu ? `${f1(r.run.cpu.user)} / ${f1(r.run.cpu.system)}` : '—'} | ${r.detail} |`);
    out.push('');
  }
  out.push(...follow);
  if (notes.length) out.push('Notes:', '', ...notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
