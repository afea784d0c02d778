/**
 * The master benchmark (issue 2): the populated index, upload throughput with a token,
 * twine-style (Basic auth with the password on every file) and through the real twine, then read
 * throughput and latency under autocannon, and the bare node:http ceiling.
 */
import { bareHttpBaseline } from './bare-http-baseline.js';
import { FILES, POPULATE_CONCURRENCY, PROJECTS, USER, PASSWORD, type BenchCluster, type Say } from './bench-cluster.js';
import { runLoad, type LoadSettings } from './load-run.js';
import { readTargets } from './read-targets.js';
import { DOWNLOAD_FILE_BYTES, newFiles, population, projectName, wheel } from './release-files.js';
import { REFERENCE, type ReadRow, type UploadRow } from './results-table.js';
import { runTwine, type TwineOutcome } from './twine-run.js';
import { basicAuth, runUploads, type UploadOutcome } from './upload-runner.js';

const TWINE_STYLE_FILES = 200;
const TWINE_FILES = 50;

export interface MasterResults {
  readonly uploads: UploadRow[];
  readonly reads: ReadRow[];
  twine: TwineOutcome | undefined;
  readonly setup: string[];
  readonly notes: string[];
}

export function uploadNotes(phase: string, o: UploadOutcome): string[] {
  return [...o.errors].map(([what, n]) => `${phase}: ${n}× ${what}`);
}

/** The read endpoints of the benchmark on `baseUrl` (master or replica: same paths). */
export function benchReadTargets(baseUrl: string, indexPath: string): ReturnType<typeof readTargets> {
  return readTargets({
    baseUrl,
    indexPath,
    pageProject: projectName(0),
    downloadFile: `${projectName(0)}-1.0.0.tar.gz`,
    wheelProject: projectName(3),
    wheelFile: wheel(projectName(3), '1.0.0', 1).filename,
  });
}

/** Fills `r` as it goes, so a failure part-way keeps the rows measured so far. */
export async function runMasterPart(cluster: BenchCluster, load: LoadSettings, say: Say, r: MasterResults): Promise<void> {
  const { master: server, ix } = await cluster.populatedMaster();
  const populate = cluster.populate!;
  const files = population(PROJECTS, FILES);
  const wheels = files.filter((f) => f.filename.endsWith('.whl')).length;
  const bytes = files.reduce((n, f) => n + f.content.length, 0);
  r.uploads.push({
    phase: `populate (${FILES} files, ${wheels} wheels, ${(bytes / 2 ** 20).toFixed(1)} MiB)`,
    auth: 'login token (X-Devpi-Auth)',
    concurrency: POPULATE_CONCURRENCY,
    files: FILES,
    outcome: populate,
    devpi: { text: `~${REFERENCE.devpiTokenUploads}`, value: REFERENCE.devpiTokenUploads },
  });
  r.notes.push(...uploadNotes('populate', populate));
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
    r.uploads.push({ phase: `twine-style, new files`, auth: 'Basic, password', concurrency, files: TWINE_STYLE_FILES, outcome: o, devpi: twineRef });
    r.notes.push(...uploadNotes(`twine-style c=${concurrency}`, o));
  }
  const status = await server.status();
  if (typeof status['password-cache-entries'] === 'number') r.setup.push(`password verification cache entries after the Basic-auth uploads: ${status['password-cache-entries']}`);

  say(`real twine upload of ${TWINE_FILES} wheels`);
  r.twine = await runTwine(`${server.url}${ix.indexPath}`, USER, PASSWORD, newFiles(TWINE_FILES, TWINE_FILES, '4.0', true));
  if (!r.twine.ran || !r.twine.ok) r.notes.push(r.twine.note);

  const { targets, notes: targetNotes } = await benchReadTargets(server.url, ix.indexPath);
  r.notes.push(...targetNotes);
  const devpiFor = (label: string): number | undefined =>
    label.startsWith('simple page') ? REFERENCE.devpiSimplePage : label.startsWith('file download') ? REFERENCE.devpiFileDownload : undefined;
  for (const target of targets) {
    say(`load: ${target.label}, ${load.connections} connections × ${load.durationSeconds} s`);
    const outcome = await runLoad(target, load, server);
    const devpi = devpiFor(target.label);
    r.reads.push({ outcome, ...(devpi ? { devpi } : {}) });
    if (outcome.note) r.notes.push(`${target.label}: ${outcome.note}`);
  }
  const htmlPage = targets[0];
  if (htmlPage) {
    say(`load: calibration, bare node:http with the same bytes`);
    const outcome = await bareHttpBaseline(htmlPage.url, load);
    r.reads.push({ outcome });
    if (outcome.note) r.notes.push(`${outcome.label}: ${outcome.note}`);
  }
  r.setup.push(
    `index \`${ix.indexPath}\`: ${PROJECTS} projects, ${FILES} files populated (sdists of 1–12 KB, every tenth a wheel), then ${2 * TWINE_STYLE_FILES} twine-style and ${TWINE_FILES} twine uploads; download target is a ${DOWNLOAD_FILE_BYTES}-byte sdist`,
    `server: one \`wheelhouse master\` process, --log-level warn, fresh temp data dir; RSS after populating: ${rssAfterPopulate === undefined ? '—' : `${(rssAfterPopulate / 2 ** 20).toFixed(0)} MiB`}`,
  );
}

export function masterLoadNote(load: LoadSettings, cores: number): string {
  return (
    `Load generator: autocannon ${load.connections} keep-alive connections, closed loop, ${load.durationSeconds} s per endpoint, one URL each, ` +
    `run in a child process (not on the server's event loop) but **sharing the machine's ${cores} cores with the server**, so these figures understate what the server alone can do. ` +
    `Latency resolution is autocannon's: whole milliseconds. Server CPU µs/request is the server process's user+system time (/proc) over the requests served — independent of how the cores were shared. RSS is the server's \`/+status\` memory-rss-bytes right after each run. ` +
    `The last row loads a bare \`node:http\` handler (child process) serving the HTML simple page's bytes under the same conditions: the ceiling on this machine for this setup.`
  );
}
