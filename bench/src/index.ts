/**
 * `npm run bench`: the Wheelhouse benchmark (a program, not a test). Starts a fresh master,
 * populates an index with 300 projects and 2,000 files, measures upload throughput with a token,
 * twine-style (Basic auth with the password on every file) and through the real twine, then read
 * throughput and latency under autocannon; prints a markdown table and writes it to
 * bench/results/latest.md. Exits non-zero only when the server cannot be started.
 */
import { cpus, platform, release, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bareHttpBaseline } from './bare-http-baseline.js';
import { createBenchIndex } from './index-setup.js';
import { runLoad, type LoadSettings } from './load-run.js';
import { readTargets } from './read-targets.js';
import { DOWNLOAD_FILE_BYTES, newFiles, population, projectName, wheel } from './release-files.js';
import { REFERENCE, renderReport, type ReadRow, type UploadRow } from './results-table.js';
import { repoRoot, ServerProcess } from './server-process.js';
import { runTwine, type TwineOutcome } from './twine-run.js';
import { basicAuth, devpiAuth, runUploads, type UploadOutcome } from './upload-runner.js';

const PROJECTS = 300;
const FILES = 2_000;
const POPULATE_CONCURRENCY = 8;
const TWINE_STYLE_FILES = 200;
const TWINE_FILES = 50;
const LOAD: LoadSettings = { connections: 10, durationSeconds: 10 };
const USER = 'bench';
const PASSWORD = 'bench-password-0123';
const INDEX = 'dev';

function uploadNotes(phase: string, o: UploadOutcome): string[] {
  return [...o.errors].map(([what, n]) => `${phase}: ${n}× ${what}`);
}

function serverLogNotes(log: string): string[] {
  // the start-up banner (URL and the pip/twine lines) is not a warning
  const lines = log.split('\n').filter((l) => l.trim() !== '' && !/^(Wheelhouse master serving | {2}pip install )/.test(l));
  if (lines.length === 0) return [];
  const shown = lines.slice(0, 5).map((l) => `  \`${l.slice(0, 300)}\``);
  return [`server log (level warn) has ${lines.length} line(s); first ${shown.length}:\n${shown.join('\n')}`];
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const cpuList = cpus();
  const machine = {
    date: new Date().toISOString(),
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown CPU',
    node: process.version,
    os: `${platform()} ${release()}`,
    memoryGiB: totalmem() / 2 ** 30,
  };

  let server: ServerProcess;
  try {
    server = await ServerProcess.start('bench-root-password');
  } catch (err) {
    process.stderr.write(`bench: cannot start the server: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const onSignal = (): void => {
    server.killNow();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const say = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

  const notes: string[] = [];
  const uploads: UploadRow[] = [];
  const reads: ReadRow[] = [];
  let twine: TwineOutcome | undefined;
  const setup: string[] = [];
  try {
    say(`master pid ${String(server.pid)} at ${server.url}`);
    const ix = await createBenchIndex(server.url, USER, PASSWORD, INDEX);

    const files = population(PROJECTS, FILES);
    const wheels = files.filter((f) => f.filename.endsWith('.whl')).length;
    const bytes = files.reduce((n, f) => n + f.content.length, 0);
    say(`populating ${ix.indexPath}: ${PROJECTS} projects, ${FILES} files`);
    const populate = await runUploads({
      baseUrl: server.url,
      indexPath: ix.indexPath,
      authHeaders: devpiAuth(USER, ix.token),
      files,
      concurrency: POPULATE_CONCURRENCY,
      budgetMs: 60_000,
    });
    uploads.push({
      phase: `populate (${FILES} files, ${wheels} wheels, ${(bytes / 2 ** 20).toFixed(1)} MiB)`,
      auth: 'login token (X-Devpi-Auth)',
      concurrency: POPULATE_CONCURRENCY,
      files: FILES,
      outcome: populate,
      devpi: { text: `~${REFERENCE.devpiTokenUploads}`, value: REFERENCE.devpiTokenUploads },
    });
    notes.push(...uploadNotes('populate', populate));
    const rssAfterPopulate = await server.rssBytes();

    const twineRef = { text: '2.5–3', value: (REFERENCE.devpiTwineUploads[0] + REFERENCE.devpiTwineUploads[1]) / 2 };
    for (const [concurrency, prefix] of [
      [1, '2.0'],
      [4, '3.0'],
    ] as const) {
      say(`twine-style uploads: ${TWINE_STYLE_FILES} files, concurrency ${concurrency}, Basic auth with the password`);
      const o = await runUploads({
        baseUrl: server.url,
        indexPath: ix.indexPath,
        authHeaders: basicAuth(USER, PASSWORD),
        files: newFiles(PROJECTS, TWINE_STYLE_FILES, prefix),
        concurrency,
        budgetMs: 30_000,
      });
      uploads.push({ phase: `twine-style, new files`, auth: 'Basic, password', concurrency, files: TWINE_STYLE_FILES, outcome: o, devpi: twineRef });
      notes.push(...uploadNotes(`twine-style c=${concurrency}`, o));
    }
    const status = await server.status();
    if (typeof status['password-cache-entries'] === 'number') setup.push(`password verification cache entries after the Basic-auth uploads: ${status['password-cache-entries']}`);

    say(`real twine upload of ${TWINE_FILES} wheels`);
    twine = await runTwine(`${server.url}${ix.indexPath}`, USER, PASSWORD, newFiles(TWINE_FILES, TWINE_FILES, '4.0', true));
    if (!twine.ran || !twine.ok) notes.push(twine.note);

    const { targets, notes: targetNotes } = await readTargets({
      baseUrl: server.url,
      indexPath: ix.indexPath,
      pageProject: projectName(0),
      downloadFile: `${projectName(0)}-1.0.0.tar.gz`,
      wheelProject: projectName(3),
      wheelFile: wheel(projectName(3), '1.0.0', 1).filename,
    });
    notes.push(...targetNotes);
    const devpiFor = (label: string): number | undefined =>
      label.startsWith('simple page') ? REFERENCE.devpiSimplePage : label.startsWith('file download') ? REFERENCE.devpiFileDownload : undefined;
    for (const target of targets) {
      say(`load: ${target.label}, ${LOAD.connections} connections × ${LOAD.durationSeconds} s`);
      const outcome = await runLoad(target, LOAD, server);
      reads.push({ outcome, ...(devpiFor(target.label) ? { devpi: devpiFor(target.label)! } : {}) });
      if (outcome.note) notes.push(`${target.label}: ${outcome.note}`);
    }
    const htmlPage = targets[0];
    if (htmlPage) {
      say(`load: calibration, bare node:http with the same bytes`);
      const outcome = await bareHttpBaseline(htmlPage.url, LOAD);
      reads.push({ outcome });
      if (outcome.note) notes.push(`${outcome.label}: ${outcome.note}`);
    }
    setup.push(
      `index \`${ix.indexPath}\`: ${PROJECTS} projects, ${FILES} files populated (sdists of 1–12 KB, every tenth a wheel), then ${2 * TWINE_STYLE_FILES} twine-style and ${TWINE_FILES} twine uploads; download target is a ${DOWNLOAD_FILE_BYTES}-byte sdist`,
      `server: one \`wheelhouse master\` process, --log-level warn, fresh temp data dir; RSS after populating: ${rssAfterPopulate === undefined ? '—' : `${(rssAfterPopulate / 2 ** 20).toFixed(0)} MiB`}`,
    );
  } catch (err) {
    notes.push(`benchmark stopped early: ${(err as Error).stack ?? String(err)}`);
  } finally {
    if (server.unexpectedExit) notes.push(`**the server died during the run (${server.unexpectedExit})**`);
    notes.push(...serverLogNotes(server.log()));
    await server.stop();
  }

  const report = renderReport({
    machine,
    setup,
    uploads,
    twine,
    reads,
    loadNote:
      `Load generator: autocannon ${LOAD.connections} keep-alive connections, closed loop, ${LOAD.durationSeconds} s per endpoint, one URL each, ` +
      `run in a child process (not on the server's event loop) but **sharing the machine's ${machine.cores} cores with the server**, so these figures understate what the server alone can do. ` +
      `Latency resolution is autocannon's: whole milliseconds. Server CPU µs/request is the server process's user+system time (/proc) over the requests served — independent of how the cores were shared. RSS is the server's \`/+status\` memory-rss-bytes right after each run. ` +
      `The last row loads a bare \`node:http\` handler (child process) serving the HTML simple page's bytes under the same conditions: the ceiling on this machine for this setup.`,
    notes,
    totalSeconds: (performance.now() - t0) / 1000,
  });
  process.stdout.write(report);
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.md'), report);
  say(`written to ${join(dir, 'latest.md')}`);
}

await main();
