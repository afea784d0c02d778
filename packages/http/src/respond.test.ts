import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ERROR_STATUS, statusOf } from './error-status.js';
import { sendError, sendJson, toReasonPhrase } from './respond.js';
import { RecordingResponse, fakeRequest } from './test-response.js';

const coded = (code: string, message = 'a message', headers?: Record<string, string>): Error => Object.assign(new Error(message), { code, ...(headers ? { headers } : {}) });

/** A logger that records the levels it was called at. */
function recordingLog(): { log: pino.Logger; levels: string[] } {
  const levels: string[] = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => void levels.push(pino.levels.labels[(JSON.parse(line) as { level: number }).level]!) });
  return { log, levels };
}

test('the error table maps core and changelog codes; unknown codes and plain errors are 500', () => {
  assert.equal(statusOf(coded('ENOTFOUND')), 404);
  assert.equal(statusOf(coded('ENOTACCEPTABLE')), 406);
  assert.equal(statusOf(coded('EBADGATEWAY')), 502);
  assert.equal(statusOf(coded('ETOOLARGE')), 413, 'changelog TooLargeError and core PayloadTooLargeError share the code');
  assert.equal(statusOf(coded('EINTEGRITY')), 502);
  assert.equal(statusOf(coded('ESERIALGAP')), 500, 'a changelog code not in the table is a defect');
  assert.equal(statusOf(coded('toString')), 500, 'only own keys of the table count');
  assert.equal(statusOf(new Error('boom')), 500);
  assert.equal(statusOf('not an error'), 500);
  assert.equal(statusOf({ type: 'entity.too.large', status: 413, message: 'x' }), 413);
  for (const status of Object.values(ERROR_STATUS)) assert.ok(status >= 400 && status < 600);
});

test('sendJson writes devpi\'s envelope: type and result together, message only when not empty', () => {
  const r = new RecordingResponse();
  sendJson(r.res, 201, { type: 'x', result: { a: 1 }, message: '' });
  assert.equal(r.statusCode, 201);
  assert.equal(r.getHeader('content-type'), 'application/json');
  assert.deepEqual(JSON.parse(r.body), { type: 'x', result: { a: 1 } });
  assert.ok(r.body.endsWith('\n'));
});

test('sendError: a coded error answers its status, headers, message and reason phrase, without an error log', () => {
  const { log, levels } = recordingLog();
  const r = new RecordingResponse();
  sendError(log, fakeRequest('GET'), r.res, coded('EUNAUTHORIZED', 'who are you?\r\n', { 'WWW-Authenticate': 'Basic realm="pypi"' }));
  assert.equal(r.statusCode, 401);
  assert.equal(r.getHeader('www-authenticate'), 'Basic realm="pypi"');
  assert.equal(r.statusMessage, 'who are you? ');
  assert.deepEqual(JSON.parse(r.body), { message: 'who are you?\r\n' });
  assert.ok(!levels.includes('error'));
});

test('sendError: an unknown error is a logged 500 that does not leak its message', () => {
  const { log, levels } = recordingLog();
  const r = new RecordingResponse();
  sendError(log, fakeRequest('GET'), r.res, new Error('secret internals'));
  assert.equal(r.statusCode, 500);
  assert.deepEqual(JSON.parse(r.body), { message: 'internal server error' });
  assert.deepEqual(levels, ['error']);
});

test('sendError: body-parser errors keep their status with a readable message', () => {
  const r = new RecordingResponse();
  sendError(pino({ level: 'silent' }), fakeRequest('POST'), r.res, { type: 'entity.parse.failed', status: 400, message: 'Unexpected token' });
  assert.equal(r.statusCode, 400);
  assert.deepEqual(JSON.parse(r.body), { message: 'invalid JSON body: Unexpected token' });
});

test('sendError after the head went out destroys the connection instead of a second response', () => {
  const r = new RecordingResponse();
  r.writeHead(200, ['Content-Length', '10']);
  sendError(pino({ level: 'silent' }), fakeRequest('GET'), r.res, coded('ENOTFOUND'));
  assert.equal(r.destroyed, true);
  assert.equal(r.statusCode, 200);
});

test('toReasonPhrase keeps visible latin-1 only and at most 300 characters', () => {
  assert.equal(toReasonPhrase('a\u2603b'), 'a b');
  assert.equal(toReasonPhrase('x'.repeat(400)).length, 300);
});
