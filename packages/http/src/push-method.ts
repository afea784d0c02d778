/**
 * Accepts devpi-client's non-standard `PUSH` method. Node's HTTP parser (llhttp) only knows the
 * registered methods and fails a `PUSH` request line with `HPE_INVALID_METHOD` before any handler
 * runs. Rather than slow every connection down with a JavaScript pre-parser, normal connections
 * keep Node's native parser; on that parse error, the connection is handed to a fresh parser
 * through a small duplex that replays the bytes with `PUSH` rewritten to `POST` (same length, so
 * nothing shifts). devpi treats POST and PUSH on an index URL alike (a JSON body is a push), so the
 * rewrite changes no meaning. The failed native parser keeps reporting every later chunk of that
 * connection as a client error, which is how its bytes reach the duplex.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

const PUSH = Buffer.from('PUSH ');

function startsWithPush(buf: Buffer): boolean {
  return buf.length >= 5 && buf.compare(PUSH, 0, 5, 0, 5) === 0;
}

/** Rewrites a chunk that starts a `PUSH` request into `POST` (returns a copy). */
export function rewritePush(buf: Buffer): Buffer {
  if (!startsWithPush(buf)) return buf;
  const copy = Buffer.from(buf);
  copy.write('POST', 0, 'latin1');
  return copy;
}

/** A socket-like duplex over a hijacked socket; http.Server treats it as a connection. */
class ReplaySocket extends Duplex {
  constructor(private readonly socket: Socket, encrypted: boolean) {
    super({ allowHalfOpen: true });
    // what http.Server reads off a connection
    Object.assign(this, {
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      remoteFamily: socket.remoteFamily,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      encrypted,
    });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
  /** Idle timeouts (keep-alive) act on the real socket; its 'timeout' is re-emitted here. */
  setTimeout(ms: number, cb?: () => void): this {
    this.socket.setTimeout(ms);
    if (cb) this.once('timeout', cb);
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}

/**
 * Installs the `PUSH` support on `server` (see module doc). Other client errors get the default
 * answer: `400 Bad Request` and the connection closed. `tls`: `server` is an `https.Server`, whose
 * HTTP connections start at `secureConnection` (the TLS socket already carries plain bytes).
 */
export function acceptPushMethod(server: Server, opts: { tls?: boolean } = {}): void {
  const connectionEvent = opts.tls ? 'secureConnection' : 'connection';
  const hijacked = new WeakMap<Socket, ReplaySocket>();
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number }, socket: Socket) => {
    let replay = hijacked.get(socket);
    let packet = err.rawPacket ? Buffer.from(err.rawPacket) : undefined;
    if (!replay && packet && err.code === 'HPE_INVALID_METHOD') {
      // the chunk may start with earlier (already answered) requests: the PUSH starts just before
      // the byte the parser stopped at
      const at = packet.lastIndexOf(PUSH, err.bytesParsed ?? packet.length);
      if (at > 0 && at >= (err.bytesParsed ?? 0) - PUSH.length) packet = packet.subarray(at);
    }
    if (!replay) {
      if (err.code !== 'HPE_INVALID_METHOD' || !packet || !startsWithPush(packet)) {
        if (socket.writable && err.code !== 'ECONNRESET') {
          const body = JSON.stringify({ message: `malformed or incomplete HTTP request (${err.code ?? 'parse error'})` });
          socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        }
        else socket.destroy();
        return;
      }
      const r = new ReplaySocket(socket, opts.tls === true);
      replay = r;
      hijacked.set(socket, r);
      socket.on('timeout', () => r.emit('timeout'));
      socket.on('end', () => r.push(null));
      socket.on('close', () => r.destroy());
      server.emit(connectionEvent, r);
    }
    if (packet) replay.push(rewritePush(packet));
  });
}
