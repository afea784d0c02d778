/**
 * Writes that reach a replica (uploads, login, user and index changes, push, test results) are
 * forwarded to the master with undici, the request body streamed. The replica answers only once
 * its own head reached the serial the master committed (`X-Devpi-Serial`), so a client that
 * uploads through a replica can install from it at once (read-your-writes). Past a bounded wait:
 * 504 saying the write committed at serial N on the master. Master unreachable: 503 saying so
 * (devpi answers 500). A hung master (SIGSTOP, a stalled disk) — no answer within `stallMs` after
 * the body was sent, or no body byte taken for `stallMs` (undici's `headersTimeout` is re-armed by
 * progress, see the proxy's `WRITE_TIMEOUTS`) — is answered 504 saying the write may or may not have
 * been committed. A client that goes away cancels the forwarded exchange. A request that already
 * passed through this replica (`Via`) is refused (508).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Request, Response } from 'express';
import { request } from 'undici';
import type { Logger } from 'pino';
import type { Changelog } from '@wheelhouse/changelog';
import { GatewayTimeoutError, LoopDetectedError, ServiceUnavailableError, outsideUrl } from '@wheelhouse/core';
import { toReasonPhrase } from '@wheelhouse/http';
import type { MasterClient } from '@wheelhouse/replication';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and ones undici sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect']);

const NODE_IDENTITY = new Set(['x-devpi-uuid', 'x-devpi-master-uuid', 'x-devpi-primary-uuid', 'x-devpi-server-version']);

/** Options of the forwarder. */
export interface ForwarderOptions {
  changelog: Changelog;
  master: MasterClient;
  log: Logger;
  /** `Via` token of this replica. */
  via: string;
  /** How long to wait for the replica to reach the master's serial, ms (default 30,000). */
  waitMs?: number;
  /** Configured outside URL of the replica (else from the request). */
  outsideUrl?: string;
  /** No answer this long after the body was sent, or no body byte taken this long: 504, ms (default {@link WRITE_STALL_MS}). */
  stallMs?: number;
  /** The same for a body over 1 MiB (or of unknown length), ms (default {@link UPLOAD_STALL_MS}). */
  uploadStallMs?: number;
}

/**
 * Default stall timeout of a forwarded write, ms (docs/operations.md, "Timeouts"): a hung master
 * fails a small write within it.
 */
export const WRITE_STALL_MS = 5_000;
/**
 * Stall timeout of an upload (a body over {@link UPLOAD_BYTES}), ms: after a big body the master may
 * need a while to commit (hashing, fsync), and a committed upload must not be reported as failed.
 */
export const UPLOAD_STALL_MS = 30_000;
/** A request body above this many bytes is an upload, bytes. */
const UPLOAD_BYTES = 1024 * 1024;
/** The master's answer body (small JSON) idle this long cuts the exchange, ms. */
const ANSWER_IDLE_MS = 30_000;
/** undici's codes for a master that took no bytes / sent no answer in time. */
const STALLED = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function copyRequestHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()));
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || listed.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Builds the express handler that forwards a write (see module doc). */
export function createWriteForwarder(opts: ForwarderOptions) {
  const waitMs = opts.waitMs ?? 30_000;
  const smallStallMs = opts.stallMs ?? WRITE_STALL_MS;
  const uploadStallMs = opts.uploadStallMs ?? UPLOAD_STALL_MS;
  return async (req: Request, res: Response): Promise<void> => {
    const via = String(req.headers.via ?? '');
    if (via.split(',').some((hop) => hop.trim().endsWith(opts.via))) {
      throw new LoopDetectedError(`request loop: this request already passed through ${opts.via}`);
    }
    const headers = copyRequestHeaders(req.headers);
    headers['via'] = via ? `${via}, 1.1 ${opts.via}` : `1.1 ${opts.via}`;
    headers['x-outside-url'] ??= outsideUrl(req, opts.outsideUrl);
    // the client's address for the master's login throttling: the proxy's entry passes unchanged;
    // a client that reached this replica directly is named by its connection
    if (req.headers['x-forwarded-for'] === undefined && req.socket.remoteAddress) headers['x-forwarded-for'] = req.socket.remoteAddress;
    const length = req.headers['content-length'];
    if (length !== undefined) headers['content-length'] = length;
    const hasBody = length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
    // undici destroys a body stream it fails to send: give it a pass-through, never the client's
    // socket, so a failed forward can still answer the client
    const body = hasBody ? req.pipe(new PassThrough()) : null;
    const stallMs = hasBody && !(Number(length) <= UPLOAD_BYTES) ? uploadStallMs : smallStallMs;
    const abort = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) abort.abort(new Error('the client went away'));
    };
    res.once('close', onClose);
    let upstream;
    let answer: Buffer;
    try {
      upstream = await request(opts.master.opts.masterUrl + req.originalUrl, {
        dispatcher: opts.master.agent,
        method: req.method as 'POST',
        headers,
        body,
        signal: abort.signal,
        headersTimeout: stallMs,
        bodyTimeout: ANSWER_IDLE_MS,
      });
      answer = Buffer.from(await upstream.body.arrayBuffer());
    } catch (err) {
      if (body) req.unpipe(body);
      req.resume();
      if (abort.signal.aborted) {
        res.destroy();
        return;
      }
      const e = err as { code?: string; cause?: { code?: string }; message: string };
      const code = e.cause?.code ?? e.code ?? e.message;
      if (STALLED.has(code)) {
        opts.log.warn({ err: code, url: req.originalUrl }, 'write forwarding failed: the master stopped answering');
        throw new GatewayTimeoutError(
          `the master at ${opts.master.opts.masterUrl} stopped answering (no progress for ${stallMs} ms): the write may or may not have been committed; check before retrying. Installs from this replica keep working`,
        );
      }
      opts.log.warn({ err: code, url: req.originalUrl }, 'write forwarding failed: master unreachable');
      throw new ServiceUnavailableError(`the master at ${opts.master.opts.masterUrl} is unreachable (${code}): writes are unavailable until it is back; installs from this replica keep working`, 5);
    } finally {
      res.off('close', onClose);
    }
    const serialHeader = upstream.headers['x-devpi-serial'];
    const serial = Number(Array.isArray(serialHeader) ? serialHeader[0] : serialHeader);
    if (upstream.statusCode < 400 && Number.isSafeInteger(serial) && serial > opts.changelog.head) {
      if (!(await opts.changelog.waitForSerial(serial, waitMs))) {
        throw new GatewayTimeoutError(
          `the write committed at serial ${serial} on the master, but this replica has not caught up within ${waitMs} ms (it is at ${opts.changelog.head}); it will appear shortly`,
        );
      }
    }
    for (const [k, v] of Object.entries(upstream.headers)) {
      // the identity headers stay this replica's (set before); the commit serial is passed on
      if (v === undefined || HOP_BY_HOP.has(k) || k === 'date' || NODE_IDENTITY.has(k)) continue;
      res.setHeader(k, v);
    }
    res.setHeader('Content-Length', answer.length);
    if (upstream.statusCode >= 400) {
      // undici does not expose the reason phrase; devpi puts the message there and twine prints it
      try {
        const message = (JSON.parse(answer.toString('utf8')) as { message?: unknown }).message;
        if (typeof message === 'string') res.statusMessage = toReasonPhrase(message);
      } catch {
        // not JSON: keep the default phrase
      }
    }
    res.status(upstream.statusCode).end(answer);
  };
}
