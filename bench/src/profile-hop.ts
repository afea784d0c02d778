/**
 * `node bench/dist/profile-hop.js [proxy|replica|master|passthrough] [page|json|file5k|file1m]` (issue 13): a
 * master with one project (an sdist, a 5 KB and a 1.7 MB wheel), a replica in sync and a proxy in
 * front; the chosen process runs under V8's profiler (`cpu-profile-preload.ts`, started and stopped by SIGUSR2 around the loaded window), wrk loads one URL on it (1 thread, 32
 * connections, 10 s; through the proxy for `proxy`; `passthrough` profiles the bare undici pass-through to the replica, the reference), then the profile's top
 * self-time frames are printed (and the `.cpuprofile` path, for Chrome DevTools). A tool, not a
 * part of `npm run bench`.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestRoot, waitFor, waitProxyBackends, type WheelhouseProcess } from '@wheelhouse/testing';
import { request } from 'undici';
import { createBenchIndex } from './index-setup.js';
import { sdist, wheel } from './release-files.js';
import { waitInSync } from './replica-sync.js';
import { devpiAuth, runUploads } from './upload-runner.js';
import { ChildServer } from './child-server.js';
import { measure } from './wrk-run.js';

type Target = 'proxy' | 'replica' | 'master' | 'passthrough';
const target = (process.argv[2] ?? 'proxy') as Target;
const what = process.argv[3] ?? 'page';
const seconds = Number(process.env.PROFILE_SECONDS ?? 10);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per frame (function + file:line), in % of all samples, the top `n`. */
export function topSelf(profile: CpuProfile, n: number): { frame: string; percent: number }[] {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const f = node.callFrame;
    const file = f.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/packages\//, '').replace(/^node:/, '');
    const key = `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([frame, t]) => ({ frame, percent: (100 * t) / total }));
}

/** Self time grouped by where the code lives (Wheelhouse package, undici, Node's http, streams, native…), % of samples. */
export function selfByArea(profile: CpuProfile): { area: string; percent: number }[] {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const area = (url: string, name: string): string => {
    if (!url) return name.startsWith('(') ? name : 'native (syscalls, V8 builtins)';
    const m = /\/packages\/([^/]+)\//.exec(url) ?? /\/(testing|bench)\/dist\//.exec(url);
    if (m && !url.includes('node_modules')) return `wheelhouse ${m[1]}`;
    const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (mod) return mod[1]!;
    if (/^node:_http|_http_/.test(url)) return 'node http';
    if (/streams|stream_base/.test(url)) return 'node streams';
    if (/events|event_target/.test(url)) return 'node events';
    return 'node other';
  };
  const t = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const k = area(node.callFrame.url, node.callFrame.functionName);
    t.set(k, (t.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...t.values()].reduce((a, b) => a + b, 0);
  return [...t.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => ({ area: k, percent: (100 * v) / total }));
}

async function main(): Promise<void> {
  const nodes = new TestRoot('profile-hop');
  const profDir = nodes.dir('cpu-prof');
  let profiled: WheelhouseProcess | undefined;
  const withProfile = async <T>(yes: boolean, start: () => Promise<T>): Promise<T> => {
    const before = process.env.NODE_OPTIONS;
    if (yes) {
      process.env.NODE_OPTIONS = `${before ?? ''} --import=${new URL('./cpu-profile-preload.js', import.meta.url).href}`;
      process.env.WH_CPU_PROFILE_DIR = profDir;
      mkdirSync(profDir, { recursive: true });
    }
    try {
      return await start();
    } finally {
      if (before === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = before;
    }
  };
  try {
    const master = await withProfile(target === 'master', () => nodes.startMaster('master', 'root-password-1234'));
    const ix = await createBenchIndex(master.url, 'prof', 'prof-password-0123', 'dev');
    const files = [sdist('profpkg', '1.0', 3 * 1024), wheel('profpkg', '1.0', 4 * 1024), wheel('profpkg', '1.1', 1_700_000)];
    await runUploads({ baseUrl: master.url, indexPath: ix.indexPath, authHeaders: devpiAuth(ix.user, ix.token), files, concurrency: 2, budgetMs: 60_000 });
    const replica = await withProfile(target === 'replica', () => nodes.startReplica('replica', master, { timeoutMs: 120_000 }));
    await waitInSync(master, replica, 120_000);
    const proxy = await withProfile(target === 'proxy', () => nodes.proxy('proxy', master, [replica]).start());
    await waitProxyBackends(proxy.url, { master: true, replica1: true });
    const passthrough = target === 'passthrough' ? await withProfile(true, () => ChildServer.start('bare-passthrough.js', [replica.url])) : undefined;
    const probe = passthrough ?? (target === 'proxy' ? proxy : target === 'replica' ? replica : master);
    profiled = passthrough ? undefined : (probe as WheelhouseProcess);
    const page = `${ix.indexPath}+simple/profpkg/`;
    const res = await request(`${replica.url}${page}`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } });
    const json = (await res.body.json()) as { files: { filename: string; url: string }[] };
    const fileUrl = (name: string): string => new URL(json.files.find((f) => f.filename === name)!.url, `${replica.url}${page}`).pathname;
    const paths: Record<string, [string, Record<string, string>]> = {
      page: [page, { accept: 'text/html' }],
      json: [page, { accept: 'application/vnd.pypi.simple.v1+json' }],
      file5k: [fileUrl(files[1]!.filename), {}],
      file1m: [fileUrl(files[2]!.filename), {}],
    };
    const [path, headers] = paths[what] ?? paths.page!;
    const base = target === 'proxy' ? proxy.url : probe.url;
    await measure(`${base}${path}`, headers, { connections: 32, durationSeconds: 2 }, {});
    const pid = passthrough ? passthrough.pid : profiled!.pid;
    process.kill(pid!, 'SIGUSR2');
    const o = await measure(`${base}${path}`, headers, { connections: 32, durationSeconds: seconds }, { [target]: probe, ...(target === 'proxy' || target === 'passthrough' ? { replica } : {}) });
    process.stdout.write(`${target} ${what}: ${Math.round(o.requestsPerSecond)} req/s, CPU µs/request ${JSON.stringify(o.cpuMicros)}${o.note ? `, ${o.note}` : ''}\n`);
    process.kill(pid!, 'SIGUSR2');
    await waitFor(() => readdirSync(profDir).some((f) => f.endsWith('.cpuprofile')), { timeoutMs: 10_000, what: 'the profile' });
    const file = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profDir, f)).sort().at(-1);
    if (!file) throw new Error(`no profile in ${profDir}`);
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    process.stdout.write(`profile: ${file}\n`);
    await passthrough?.stop();
    process.stdout.write('self time by area:\n');
    for (const a of selfByArea(profile)) process.stdout.write(`${a.percent.toFixed(1).padStart(5)}%  ${a.area}\n`);
    process.stdout.write('top self-time frames:\n');
    for (const t of topSelf(profile, Number(process.env.PROFILE_TOP ?? 30))) process.stdout.write(`${t.percent.toFixed(1).padStart(5)}%  ${t.frame}\n`);
  } finally {
    if (process.env.WH_E2E_KEEP) process.stdout.write(`kept ${nodes.root}\n`);
    await nodes.cleanup();
  }
}

await main();
