import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWheelMetadata, metadataNameVersion } from './wheel-check.js';

const meta = (name: string, version: string): Buffer => Buffer.from(`Metadata-Version: 2.1\r\nName: ${name}\r\nVersion: ${version}\r\n\r\nVersion: 9.9 (in the body)\n`);

test('metadataNameVersion reads the header block only', () => {
  assert.deepEqual(metadataNameVersion(meta('Foo_Bar', '1.0')), { name: 'Foo_Bar', version: '1.0' });
  assert.deepEqual(metadataNameVersion(Buffer.from('Metadata-Version: 2.1\n')), { name: '', version: '' });
});

test('checkWheelMetadata accepts what agrees after PEP 503 / PEP 440 normalisation', () => {
  assert.doesNotThrow(() => checkWheelMetadata('foo_bar-1.0-py3-none-any.whl', { name: 'foo-bar', version: '1.0' }, meta('Foo.Bar', '1.0.0'), 'foo_bar-1.0.dist-info'));
  assert.doesNotThrow(() => checkWheelMetadata('x-1.0.post1-py3-none-any.whl', { name: 'x', version: '1.0-1' }, meta('x', '1.0.post1'), 'x-1.0_1.dist-info'));
});

test('checkWheelMetadata refuses a Name, Version or .dist-info that disagrees (400 naming it)', () => {
  const refused = (form: { name: string; version: string }, m: Buffer, dir: string, re: RegExp): void =>
    assert.throws(() => checkWheelMetadata('demo-2.0-py3-none-any.whl', form, m, dir), (err: unknown) => (err as { code?: string }).code === 'EBADREQUEST' && re.test((err as Error).message));
  refused({ name: 'demo', version: '2.0' }, meta('demo', '1.0'), 'demo-2.0.dist-info', /METADATA Version '1\.0' is not the version '2\.0'/);
  refused({ name: 'demo', version: '2.0' }, meta('other', '2.0'), 'demo-2.0.dist-info', /METADATA Name 'other' is not the project 'demo'/);
  refused({ name: 'demo', version: '2.0' }, meta('demo', '2.0'), 'demo-1.0.dist-info', /directory 'demo-1\.0\.dist-info' does not match/);
  refused({ name: 'demo', version: '2.0' }, Buffer.from('Metadata-Version: 2.1\n\n'), 'demo-2.0.dist-info', /no Name or Version/);
});
