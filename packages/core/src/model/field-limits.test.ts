import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIELD_LIMITS, assertJsonBytes, assertJsonDepth, jsonDepth } from './field-limits.js';
import { checkUserCreateBody, checkUserPatchBody } from './users.js';
import { checkIndexInputLimits } from './indexes.js';
import { checkReleaseMetadataLimits, validateNewRelease, validateReleaseFile } from './releases.js';

const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

const refused = (fn: () => unknown, code: string, message: RegExp): void => {
  assert.throws(fn, (err: unknown) => {
    assert.equal((err as { code?: string }).code, code, String(err));
    assert.match((err as Error).message, message);
    return true;
  });
};

test('jsonDepth counts nesting without recursion (100,000 levels do not overflow the stack)', () => {
  assert.equal(jsonDepth(1), 0);
  assert.equal(jsonDepth({ a: [1, { b: 2 }] }), 3);
  assert.ok(jsonDepth(nested(100_000)) > FIELD_LIMITS.jsonDepth);
  refused(() => assertJsonDepth('the JSON body', nested(5000)), 'EBADREQUEST', /nests deeper than 64 levels/);
  assert.doesNotThrow(() => assertJsonDepth('x', nested(FIELD_LIMITS.jsonDepth)));
});

test('assertJsonBytes: 413 naming the field and the limit', () => {
  refused(() => assertJsonBytes('custom_data', { x: 'y'.repeat(70_000) }, FIELD_LIMITS.customDataBytes), 'ETOOLARGE', /"custom_data" is \d+ bytes; the limit is 65536 bytes/);
  assert.doesNotThrow(() => assertJsonBytes('custom_data', undefined, 10));
});

test('user bodies: a 9 MB description, a long title, big custom_data are refused naming the field', () => {
  refused(() => checkUserCreateBody({ password: 'p', description: 'd'.repeat(9 * 1024 * 1024) }), 'EBADREQUEST', /\/description must NOT have more than 65536 characters/);
  refused(() => checkUserPatchBody({ title: 't'.repeat(300) }), 'EBADREQUEST', /\/title must NOT have more than 256 characters/);
  refused(() => checkUserCreateBody({ password: 'p', custom_data: { a: 'x'.repeat(70_000) } }), 'ETOOLARGE', /custom_data/);
  refused(() => checkUserCreateBody({ password: 'p', custom_data: nested(5000) }), 'EBADREQUEST', /nests deeper/);
  assert.doesNotThrow(() => checkUserCreateBody({ password: 'p', description: 'd'.repeat(1000), custom_data: { a: 1 } }));
});

test('index input: description, list sizes and custom_data are bounded', () => {
  refused(() => checkIndexInputLimits({ description: 'd'.repeat(FIELD_LIMITS.description + 1) }), 'EBADREQUEST', /"description" is 65537 characters long; the limit is 65536/);
  refused(() => checkIndexInputLimits({ acl_upload: Array.from({ length: 1001 }, (_, i) => `u${i}`) }), 'EBADREQUEST', /"acl_upload" has 1001 entries; the limit is 1000/);
  refused(() => checkIndexInputLimits({ custom_data: 'x'.repeat(70_000) }), 'ETOOLARGE', /custom_data/);
  assert.doesNotThrow(() => checkIndexInputLimits({ title: 'ok', bases: 'root/pypi', acl_upload: ['alice'] }));
});

test('release metadata: a 5 MB description is 413 naming the field and the limit; long summary 400', () => {
  refused(() => checkReleaseMetadataLimits({ name: 'a', version: '1', description: 'x'.repeat(5 * 1024 * 1024) }), 'ETOOLARGE', /"description" is 5242880 bytes; the limit is 1048576 bytes/);
  refused(() => checkReleaseMetadataLimits({ name: 'a', version: '1', summary: 's'.repeat(513) }), 'EBADREQUEST', /"summary" is 513 characters long; the limit is 512/);
  refused(() => checkReleaseMetadataLimits({ name: 'a', version: '1', classifiers: Array.from({ length: 1001 }, () => 'c') }), 'EBADREQUEST', /"classifiers" has 1001 entries/);
  assert.doesNotThrow(() => checkReleaseMetadataLimits({ name: 'a', version: '1', description: 'x'.repeat(100_000), summary: 'fine' }));
});

test('new releases: PEP 440 versions only, name and version lengths bounded', () => {
  refused(() => validateNewRelease('demo', '1.0$$beta!'), 'EBADREQUEST', /invalid version '1\.0\$\$beta!': it must be a PEP 440 version/);
  refused(() => validateNewRelease('demo', 'banana'), 'EBADREQUEST', /PEP 440/);
  refused(() => validateNewRelease('demo', '1'.repeat(10_000)), 'EBADREQUEST', /"version" is 10000 characters long; the limit is 64/);
  refused(() => validateNewRelease('a'.repeat(10_000), '1.0'), 'EBADREQUEST', /"name" is 10000 characters long; the limit is 128/);
  refused(() => validateReleaseFile('demo', '1.0$$beta!', 'demo-1.0$$beta!.tar.gz'), 'EBADREQUEST', /PEP 440/);
  for (const v of ['1.0', '2.0rc1', '1!1.0.post2.dev3+local.1', '1.0-1', 'v1.0']) assert.doesNotThrow(() => validateNewRelease('demo', v), v);
});
