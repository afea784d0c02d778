import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addedLines, ChunkedBodyEnd, fastReadRequest, parseAnswerHead, type FastReadRequest, type HeadContext } from './http1-heads.js';

/** The whole head the backend gets for `req` read from `head`, as one text (what the fast path writes as two buffers). */
function backendHeadText(head: string, req: FastReadRequest, ctx: HeadContext): string {
  return `${req.rewritten ?? `${head}\r\n`}${addedLines(req, ctx)}`;
}

const ctx: HeadContext = { remoteAddress: '10.1.1.1', viaToken: 'wheelhouse-proxy-t', outsideUrl: undefined, listenAddress: '0.0.0.0:3141', scheme: 'http', epoch: 0 };

test('a plain read keeps the client lines as sent and gets the forwarded headers appended', () => {
  const head = 'GET /root/pypi/+simple/pip/ HTTP/1.1\r\nHost: pkgs:3141\r\nAccept-Encoding: gzip\r\nConnection: keep-alive';
  const req = fastReadRequest(head, ctx.viaToken)!;
  assert.equal(req.rewritten, undefined, 'nothing to drop: the bytes go as they came');
  assert.equal(req.close, false);
  assert.equal(
    backendHeadText(head, req, { ...ctx, epoch: 3 }),
    `${head}\r\nx-forwarded-for: 10.1.1.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: pkgs:3141\r\nx-outside-url: http://pkgs:3141\r\nvia: 1.1 wheelhouse-proxy-t\r\nx-wheelhouse-epoch: 3\r\n\r\n`,
  );
});

test('hop-by-hop headers, a client epoch and earlier Via / X-Forwarded-For lines are rewritten as the other path does', () => {
  const head = 'HEAD /x?q=1 HTTP/1.1\r\nhost: h\r\nConnection: close\r\nTE: trailers\r\nX-Forwarded-For: 1.2.3.4\r\nVia: 1.0 lb\r\nX-Wheelhouse-Epoch: 99\r\nX-Outside-Url: https://pkgs\r\nAccept: */*';
  const req = fastReadRequest(head, ctx.viaToken)!;
  assert.equal(req.method, 'HEAD');
  assert.equal(req.target, '/x?q=1');
  assert.equal(req.close, true);
  assert.equal(
    backendHeadText(head, req, ctx),
    'HEAD /x?q=1 HTTP/1.1\r\nhost: h\r\nX-Outside-Url: https://pkgs\r\nAccept: */*\r\nx-forwarded-for: 1.2.3.4, 10.1.1.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: h\r\nvia: 1.0 lb, 1.1 wheelhouse-proxy-t\r\n\r\n',
  );
});

test('anything outside the plain form is left to Node', () => {
  const refused = [
    'POST / HTTP/1.1\r\nHost: h',
    'GET / HTTP/1.0\r\nHost: h',
    'GET http://h/ HTTP/1.1\r\nHost: h',
    'GET / HTTP/1.1',
    'GET / HTTP/1.1\r\nHost: h\r\nHost: i',
    'GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0',
    'GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked',
    'GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue',
    'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket',
    'GET / HTTP/1.1\r\nHost: h\r\n folded: line',
    'GET / HTTP/1.1\r\nHost: h\r\nBad Name: x',
    'GET / HTTP/1.1\r\nHost: h\r\nX: a\nb',
    'GET / HTTP/1.1\r\nHost: h\r\nX: a\rb',
    'GET / HTTP/1.1\r\nHost: h\r\n: empty name',
    'GET /a b HTTP/1.1\r\nHost: h',
    'GET / HTTP/1.1\r\nHost: h\r\nVia: 1.1 wheelhouse-proxy-t',
  ];
  for (const head of refused) assert.equal(fastReadRequest(head, ctx.viaToken), undefined, JSON.stringify(head));
});

test("a node's answer head: framing, serial and epoch read; relayed as it is unless a Connection line must change", () => {
  const node = 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Devpi-Serial: 41\r\nX-Devpi-Master-Uuid: u1\r\nX-Wheelhouse-Epoch: 2\r\nX-Wheelhouse-Role: replica\r\nContent-Length: 120\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65';
  const a = parseAnswerHead(node, 'GET', false)!;
  assert.deepEqual({ status: a.status, framing: a.framing, keepAlive: a.keepAlive, serial: a.serial, masterUuid: a.masterUuid, epoch: a.epoch, role: a.role, clientHead: a.clientHead },
    { status: 200, framing: { kind: 'length', bytes: 120 }, keepAlive: true, serial: 41, masterUuid: 'u1', epoch: '2', role: 'replica', clientHead: undefined });
  assert.deepEqual(parseAnswerHead(node, 'HEAD', false)!.framing, { kind: 'none' });
  const closing = parseAnswerHead(node, 'GET', true)!;
  assert.equal(closing.clientHead, 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Devpi-Serial: 41\r\nX-Devpi-Master-Uuid: u1\r\nX-Wheelhouse-Epoch: 2\r\nX-Wheelhouse-Role: replica\r\nContent-Length: 120\r\nconnection: close\r\n\r\n');
  const backendCloses = parseAnswerHead('HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close', 'GET', false)!;
  assert.equal(backendCloses.keepAlive, false);
  assert.equal(backendCloses.clientHead, 'HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n', "the node's close is about its connection to the proxy, not the client's");
  assert.deepEqual(parseAnswerHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked', 'GET', false)!.framing, { kind: 'chunked' });
  const untilClose = parseAnswerHead('HTTP/1.1 200 OK\r\nContent-Type: text/plain', 'GET', false)!;
  assert.deepEqual([untilClose.framing, untilClose.keepAlive], [{ kind: 'close' }, false]);
  assert.match(untilClose.clientHead!, /connection: close\r\n\r\n$/);
  assert.deepEqual(parseAnswerHead('HTTP/1.1 304 Not Modified\r\nETag: "x"', 'GET', false)!.framing, { kind: 'none' });
  for (const bad of ['HTTP/1.1 100 Continue', 'HTTP/2 200', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2', 'HTTP/1.1 200 OK\r\nContent-Length: -1']) {
    assert.equal(parseAnswerHead(bad, 'GET', false), undefined, bad);
  }
});

test('the end of a chunked body is found across any split, with extensions and trailers; malformed sizes throw', () => {
  const body = Buffer.from('4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\nNEXT');
  const end = body.length - 4;
  assert.equal(new ChunkedBodyEnd().feed(body), end);
  for (let cut = 1; cut < end; cut++) {
    const c = new ChunkedBodyEnd();
    assert.equal(c.feed(body.subarray(0, cut)), -1, `cut at ${cut}`);
    assert.equal(c.feed(body, cut), end, `cut at ${cut}`);
  }
  assert.throws(() => new ChunkedBodyEnd().feed(Buffer.from('zz\r\n')));
  assert.throws(() => new ChunkedBodyEnd().feed(Buffer.from('3\r\nabcX')));
  assert.throws(() => new ChunkedBodyEnd().feed(Buffer.from('1234567890abc\r\n')));
});
