/**
 * nginx as the benchmark's reference (Debian `nginx`; install with `apt-get install -y nginx`): one
 * nginx (one worker process, access log off) with two servers, one serving a directory of static
 * files (the same bytes a replica serves) and one `proxy_pass`ing to a backend with upstream
 * keep-alive (`keepalive 64`, HTTP/1.1, `Connection: ""`), as nginx's docs recommend for a reverse
 * proxy. Started in the foreground (`daemon off`) under a temp prefix, so killing the child ends it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds, freePort, waitFor, notYet } from '@wheelhouse/testing';
import { request } from 'undici';
import { stopChild } from './child-server.js';

/** The nginx binary when it is on PATH (or /usr/sbin), else undefined. */
export function nginxBinary(): string | undefined {
  for (const bin of ['nginx', '/usr/sbin/nginx']) {
    const r = spawnSync(bin, ['-v'], { stdio: 'ignore' });
    if (r.status === 0) return bin;
  }
  return undefined;
}

export interface NginxSettings {
  /** Directory served as-is at `/` by the static server. */
  readonly staticRoot: string;
  /** `http://127.0.0.1:PORT` of the backend the proxy server forwards to. */
  readonly backendUrl: string;
  /** Temp directory for nginx's config, pid file, logs and temp paths. */
  readonly prefix: string;
}

/** A running nginx with its two servers' URLs. */
export class NginxServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly staticUrl: string,
    readonly proxyUrl: string,
  ) {}

  /** Writes the config and starts nginx; resolves when both ports answer. @throws when nginx exits or is not ready in 10 s. */
  static async start(bin: string, s: NginxSettings): Promise<NginxServer> {
    const [staticPort, proxyPort] = [await freePort(), await freePort()];
    mkdirSync(join(s.prefix, 'logs'), { recursive: true });
    const backend = new URL(s.backendUrl);
    const conf = `worker_processes 1;
pid ${join(s.prefix, 'nginx.pid')};
error_log ${join(s.prefix, 'logs', 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path ${join(s.prefix, 'body')}; proxy_temp_path ${join(s.prefix, 'proxy')};
  fastcgi_temp_path ${join(s.prefix, 'fastcgi')}; uwsgi_temp_path ${join(s.prefix, 'uwsgi')}; scgi_temp_path ${join(s.prefix, 'scgi')};
  types { text/html html; application/vnd.pypi.simple.v1+json json; application/octet-stream whl gz; }
  default_type application/octet-stream;
  upstream backend { server ${backend.host}; keepalive 64; }
  server {
    listen 127.0.0.1:${staticPort};
    root ${s.staticRoot};
    index index.html index.json;
  }
  server {
    listen 127.0.0.1:${proxyPort};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }
  }
}
`;
    const confPath = join(s.prefix, 'nginx.conf');
    writeFileSync(confPath, conf);
    const child = spawn(bin, ['-p', s.prefix, '-c', confPath, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const server = new NginxServer(child, `http://127.0.0.1:${staticPort}`, `http://127.0.0.1:${proxyPort}`);
    try {
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr.slice(0, 500)}`);
        try {
          const res = await request(`${server.staticUrl}/`);
          await res.body.dump();
          return true;
        } catch {
          return notYet('not listening');
        }
      }, { what: 'nginx to listen', timeoutMs: 10_000 });
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return server;
  }

  /** CPU seconds of the nginx master and its worker (proc(5)); undefined when /proc is not there. */
  cpuSeconds(): number | undefined {
    const pid = this.child.pid;
    if (pid === undefined) return undefined;
    let total = cpuSeconds(pid);
    if (total === undefined) return undefined;
    try {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const c of children) total += cpuSeconds(Number(c)) ?? 0;
    } catch {
      // no children file (old kernel): the master's time only
    }
    return total;
  }

  /** SIGQUITs nginx (graceful) and waits for it; SIGKILL after 5 s. */
  async stop(): Promise<void> {
    await stopChild(this.child, 'SIGQUIT', 5_000);
  }

  /** SIGKILL now (signal path). */
  killNow(): void {
    this.child.kill('SIGKILL');
  }
}
