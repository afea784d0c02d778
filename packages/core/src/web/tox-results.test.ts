import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseToxResult } from './tox-results.js';

const report = (retcode: string) =>
  Buffer.from(JSON.stringify({
    reportversion: '1', toxversion: '3.28.0', platform: 'linux', host: 'ci-1',
    testenvs: { py311: { python: { version: '3.11.2 (main)' }, setup: [{ command: ['pip', 'install'], retcode: '0', output: '' }], test: [{ command: ['pytest'], retcode, output: '1 passed' }] } },
  }));

test('tox reports: passed when every command returned 0, failed on any non-zero, unreadable otherwise', () => {
  const ok = parseToxResult(report('0'))!;
  assert.equal(ok.host, 'ci-1');
  assert.equal(ok.envs[0]!.outcome, 'passed');
  assert.equal(ok.envs[0]!.python, '3.11.2');
  assert.equal(ok.envs[0]!.commands[1]!.command, 'pytest');
  assert.equal(parseToxResult(report('1'))!.envs[0]!.outcome, 'failed');
  assert.equal(parseToxResult(Buffer.from('{"foo": 1}')), undefined);
  assert.equal(parseToxResult(Buffer.from('not json')), undefined);
});
