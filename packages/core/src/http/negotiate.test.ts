import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PEP691_HTML, PEP691_JSON, negotiateSimple } from './negotiate.js';

const HTML = { format: 'html', type: 'text/html; charset=utf-8' };

test("pip 23's Accept header picks PEP 691 JSON", () => {
  const pip = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
  assert.deepEqual(negotiateSimple(pip), { format: 'json', type: PEP691_JSON });
  // asked twice (memoised): same answer
  assert.deepEqual(negotiateSimple(pip), { format: 'json', type: PEP691_JSON });
});

test('no Accept, */* and text/html give HTML', () => {
  assert.deepEqual(negotiateSimple(undefined), HTML);
  assert.deepEqual(negotiateSimple(''), HTML);
  assert.deepEqual(negotiateSimple('*/*'), HTML);
  assert.deepEqual(negotiateSimple('text/html'), HTML);
  assert.deepEqual(negotiateSimple('text/*'), HTML);
  // a browser
  assert.deepEqual(negotiateSimple('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), HTML);
});

test('q-values decide; an explicitly named type beats a wildcard at the same q', () => {
  assert.deepEqual(negotiateSimple('text/html;q=0.5, application/vnd.pypi.simple.v1+json'), { format: 'json', type: PEP691_JSON });
  assert.deepEqual(negotiateSimple('text/html, application/vnd.pypi.simple.v1+json;q=0.5'), HTML);
  assert.deepEqual(negotiateSimple('*/*, application/vnd.pypi.simple.v1+json'), { format: 'json', type: PEP691_JSON });
  assert.deepEqual(negotiateSimple('text/html;q=0, application/vnd.pypi.simple.v1+json;q=0.1'), { format: 'json', type: PEP691_JSON });
  assert.deepEqual(negotiateSimple('application/vnd.pypi.simple.v1+html'), { format: 'html', type: PEP691_HTML });
});

test('nothing we offer is acceptable → null (the caller answers 406)', () => {
  assert.equal(negotiateSimple('application/json'), null);
  assert.equal(negotiateSimple('image/png, application/xml'), null);
  assert.equal(negotiateSimple('text/html;q=0'), null);
});
