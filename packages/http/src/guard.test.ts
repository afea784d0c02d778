import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { guard } from './guard.js';
import { RecordingResponse, fakeRequest } from './test-response.js';

const silent = pino({ level: 'silent' });
const notFound = (): Error => Object.assign(new Error('no such page'), { code: 'ENOTFOUND' });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a synchronous throw becomes an error answer with the node headers', () => {
  const r = new RecordingResponse();
  const handler = guard(silent, (): boolean => {
    throw new Error('boom');
  }, { beforeError: (res) => res.setHeader('X-Devpi-Serial', '7') });
  assert.equal(handler(fakeRequest('GET'), r.res), undefined);
  assert.equal(r.statusCode, 500);
  assert.equal(r.getHeader('x-devpi-serial'), '7');
  assert.deepEqual(JSON.parse(r.body), { message: 'internal server error' });
});

test('a rejected promise becomes an error answer; a typed error keeps its status', async () => {
  const r = new RecordingResponse();
  const out = guard(silent, async () => {
    await tick();
    throw notFound();
  })(fakeRequest('HEAD'), r.res);
  assert.ok(out instanceof Promise);
  await tick();
  await tick();
  assert.equal(r.statusCode, 404);
  assert.deepEqual(JSON.parse(r.body), { message: 'no such page' });
});

test('what the handler returns passes through (false: not answered here)', () => {
  const r = new RecordingResponse();
  assert.equal(guard(silent, () => false)(fakeRequest('GET'), r.res), false);
  assert.equal(r.headersSent, false);
});

test('a throw after headers went out (ERR_HTTP_HEADERS_SENT, issue 10) destroys the socket; the process lives on', async () => {
  let uncaught = 0;
  const count = (): void => void uncaught++;
  process.on('uncaughtException', count);
  process.on('unhandledRejection', count);
  try {
    const r = new RecordingResponse();
    // what mirror-service did: end the response, then set a header, inside an async function
    guard(silent, async (_req, res) => {
      res.writeHead(304, []);
      res.end();
      await tick();
      res.setHeader('Cache-Control', 'max-age=0, must-revalidate');
    })(fakeRequest('HEAD'), r.res);
    await tick();
    await tick();
    assert.equal(r.destroyed, true);
    assert.equal(r.statusCode, 304);
    assert.equal(uncaught, 0);
  } finally {
    process.off('uncaughtException', count);
    process.off('unhandledRejection', count);
  }
});
