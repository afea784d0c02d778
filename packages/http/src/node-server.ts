/**
 * The HTTP server of a node: `node:http` with the keep-alive timeout a load balancer in front
 * expects (65 s, above the usual 60 s idle timeout of proxies, so the node never closes a
 * connection the proxy is about to reuse), devpi-client's `PUSH` method accepted
 * (`push-method.ts`), listening that reports the bound port and a loopback-reachable URL, an
 * optional `<datadir>/node.json` (`node-file.ts`) while listening, and a close that also ends
 * idle keep-alive connections.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { acceptPushMethod } from './push-method.js';
import { removeNodeFile, writeNodeFile, type NodeFile } from './node-file.js';

/** Options of {@link createNodeServer}. */
export interface NodeServerOptions {
  /** Interface to listen on (`0.0.0.0`, `::`, a name or an address). */
  host: string;
  /** TCP port (0 = any free port). */
  port: number;
  handler: RequestListener;
  /** Accept devpi-client's `PUSH` method (default true). */
  acceptPush?: boolean;
  /** Write `<datadir>/node.json` while listening (master and replica; not the proxy). */
  nodeFile?: { datadir: string; role: NodeFile['role'] };
}

/** Where a node listens. */
export interface Bound {
  port: number;
  /** `http://host:port`, the host reachable from this machine (see {@link httpUrl}, {@link reachableHost}). */
  url: string;
}

/** A node's server (see module doc). */
export interface NodeServer {
  server: Server;
  /** Starts listening; rejects with the listen error (EADDRINUSE, …). */
  listen(): Promise<Bound>;
  /** Removes the node file, stops accepting, closes every connection; resolves once closed. */
  close(): Promise<void>;
}

/** A host that reaches the interface from this machine: the wildcard addresses become 127.0.0.1. */
export function reachableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/** `http://host:port`, an IPv6 address in brackets (RFC 3986 §3.2.2). */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Builds a node's server (see module doc). */
export function createNodeServer(opts: NodeServerOptions): NodeServer {
  const server = createServer(opts.handler);
  server.keepAliveTimeout = 65_000;
  if (opts.acceptPush !== false) acceptPushMethod(server);
  return {
    server,
    listen: async () => {
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : opts.port);
        });
      });
      const url = httpUrl(reachableHost(opts.host), port);
      if (opts.nodeFile) await writeNodeFile(opts.nodeFile.datadir, { role: opts.nodeFile.role, url, pid: process.pid });
      return { port, url };
    },
    close: async () => {
      if (opts.nodeFile) await removeNodeFile(opts.nodeFile.datadir);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
