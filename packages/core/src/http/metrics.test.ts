import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { createNodeMetrics } from './metrics.js';

test('request durations are counted by method and status class; unknown methods count as OTHER', async () => {
  const cl = await Changelog.openInMemory();
  const metrics = createNodeMetrics(cl);
  metrics.observeRequest('GET', 200, 0.2);
  metrics.observeRequest('GET', 204, 3);
  metrics.observeRequest('GET', 404, 1);
  metrics.observeRequest('PUSH', 201, 1);
  metrics.observeRequest('BREW', 500, 1);
  const text = await metrics.registry.metrics();
  const count = (labels: string): number => Number(new RegExp(`wheelhouse_http_request_duration_seconds_count\\{${labels}\\} (\\d+)`).exec(text)?.[1] ?? 0);
  assert.equal(count('method="GET",status="2xx"'), 2);
  assert.equal(count('method="GET",status="4xx"'), 1);
  assert.equal(count('method="OTHER",status="2xx"'), 1);
  assert.equal(count('method="OTHER",status="5xx"'), 1);
  assert.match(text, /wheelhouse_http_request_duration_seconds_bucket\{le="0\.0005",method="GET",status="2xx"\} 1/);
});
