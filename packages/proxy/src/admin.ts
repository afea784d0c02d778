/**
 * The routes the proxy answers itself: `GET /+status` (JSON, or a page for a browser's
 * `Accept: text/html`), `GET /+metrics` (Prometheus text), and `POST /+proxy/drain/{name}` /
 * `POST /+proxy/undrain/{name}` — from loopback only — to take a backend out of rotation for
 * maintenance and put it back. `adminAction` decides (pure); `createAdminHandler` answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BackendPool } from './backends.js';
import { NodeError, answerError, sendJson } from '@wheelhouse/http';
import { proxyStatus } from './proxy-status.js';
import { proxyStatusHtml } from './status-html.js';

/** What an admin request asks for, decided from plain request data. */
export type AdminAction =
  | { kind: 'status-html' }
  | { kind: 'status-json' }
  | { kind: 'metrics' }
  | { kind: 'drain'; backend: string; draining: boolean }
  | { kind: 'refused'; message: string }
  | { kind: 'not-found'; message: string };

/** The parts of an admin request the decision reads. */
export interface AdminRequest {
  method: string | undefined;
  /** The URL path without query. */
  path: string;
  accept: string | undefined;
  /** The client's address (`socket.remoteAddress`). */
  remoteAddress: string | undefined;
}

/** Whether `path` is the proxy's own (never forwarded to a backend). */
export function isAdminPath(path: string): boolean {
  return path === '/+status' || path === '/+metrics' || path.startsWith('/+proxy/');
}

/** Whether an address is loopback (IPv4 127/8, `::1`, IPv4-mapped 127/8). */
export function isLoopback(address: string | undefined): boolean {
  return /^(127\.|::1$|::ffff:127\.)/.test(address ?? '');
}

/** Decides an admin request (see module doc); a drain switch from elsewhere than loopback is refused. Pure. */
export function adminAction(r: AdminRequest): AdminAction {
  if (r.path === '/+status' && r.method === 'GET') return /\btext\/html\b/.test(r.accept ?? '') ? { kind: 'status-html' } : { kind: 'status-json' };
  if (r.path === '/+metrics' && r.method === 'GET') return { kind: 'metrics' };
  const m = /^\/\+proxy\/(drain|undrain)\/([^/]+)$/.exec(r.path);
  if (m && r.method === 'POST') {
    if (!isLoopback(r.remoteAddress)) return { kind: 'refused', message: 'drain switches are only accepted from loopback' };
    return { kind: 'drain', backend: m[2]!, draining: m[1] === 'drain' };
  }
  return { kind: 'not-found', message: `not found: ${r.path}` };
}

/** Answers admin requests over `pool` and `registry`; `path` is the request's path without query. */
export function createAdminHandler(deps: { pool: BackendPool; registry: Registry; log: Logger }): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void> {
  const { pool, registry, log } = deps;
  return async (req, res, path) => {
    const action = adminAction({ method: req.method, path, accept: req.headers.accept, remoteAddress: req.socket.remoteAddress });
    switch (action.kind) {
      case 'status-html': {
        const page = proxyStatusHtml(proxyStatus(pool));
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'", Vary: 'Accept', 'Content-Length': Buffer.byteLength(page) });
        return void res.end(page);
      }
      case 'status-json':
        return sendJson(res, 200, { type: 'status', result: proxyStatus(pool) });
      case 'metrics': {
        const text = await registry.metrics();
        res.writeHead(200, { 'Content-Type': registry.contentType });
        return void res.end(text);
      }
      case 'drain': {
        const b = pool.byName(action.backend);
        if (!b) return answerError(res, new NodeError('ENOTFOUND', `no backend '${action.backend}' (have: ${pool.backends.map((x) => x.name).join(', ')})`));
        b.draining = action.draining;
        log.warn({ backend: b.name, draining: b.draining }, 'drain switch');
        return sendJson(res, 200, { message: `${b.name} ${b.draining ? 'draining' : 'back in rotation'}`, type: 'status', result: proxyStatus(pool) });
      }
      case 'refused':
        return answerError(res, new NodeError('EFORBIDDEN', action.message));
      case 'not-found':
        return answerError(res, new NodeError('ENOTFOUND', action.message));
    }
  };
}
