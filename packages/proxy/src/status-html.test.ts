import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proxyStatusHtml } from './status-html.js';

const backend = (name: string, role: string, usable: boolean) => ({ name, role, url: `http://${name}`, usable, serial: 3, outstanding: 0, 'last-error': usable ? null : '<b>ECONNREFUSED</b>' });

test('the proxy status page says at a glance whether the backends are healthy, escaped', () => {
  assert.match(proxyStatusHtml({ 'write-serial': 3, backends: [backend('master', 'master', true), backend('replica1', 'replica', true)] }), /banner ok[^>]*>Healthy/);
  const down = proxyStatusHtml({ 'write-serial': 3, backends: [backend('master', 'master', false), backend('replica1', 'replica', true)] });
  assert.match(down, /banner warn[^>]*>Needs attention: the master is unavailable/);
  assert.doesNotMatch(down, /<b>ECONNREFUSED/);
  assert.match(proxyStatusHtml({ backends: [backend('master', 'master', false)] }), /banner bad/);
});
