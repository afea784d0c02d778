import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSize, parseBoolean, parseDuration, parseInteger, parseList, parseSize, parseValue, ValueError } from './flag-values.js';

test('sizes: plain bytes, SI and IEC units, case-insensitive, whole bytes only', () => {
  assert.equal(parseSize('1048576'), 1_048_576);
  assert.equal(parseSize('512MiB'), 512 * 1024 ** 2);
  assert.equal(parseSize('1GiB'), 1024 ** 3);
  assert.equal(parseSize('1gib'), 1024 ** 3);
  assert.equal(parseSize('2GB'), 2e9);
  assert.equal(parseSize('1.5 kB'), 1500);
  assert.equal(parseSize('10b'), 10);
  for (const bad of ['', 'abc', '1.5B', '-1', '1 GiBs', '1e9', '2 GiB 3']) assert.throws(() => parseSize(bad), ValueError, bad);
  assert.throws(() => parseSize('x'), /must be a size in bytes .*, not 'x'/);
});

test('formatSize shows the largest IEC unit that divides the size', () => {
  assert.equal(formatSize(1024 ** 3), '1GiB');
  assert.equal(formatSize(512 * 1024 ** 2), '512MiB');
  assert.equal(formatSize(1000), '1000');
});

test('durations: bare numbers are ms; ms, s, m, min, h units', () => {
  assert.equal(parseDuration('5000'), 5000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2.5s'), 2500);
  assert.equal(parseDuration('1.1s'), 1100);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1min'), 60_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  for (const bad of ['', 'soon', '0.3ms', '5 sec', '-5s', '1d']) assert.throws(() => parseDuration(bad), ValueError, bad);
});

test('integers, booleans and lists', () => {
  assert.equal(parseInteger('3141'), 3141);
  assert.throws(() => parseInteger('3141.5'), /must be a whole number, not '3141.5'/);
  assert.throws(() => parseInteger('0x10'), ValueError);
  assert.equal(parseBoolean('TRUE'), true);
  assert.equal(parseBoolean('1'), true);
  assert.equal(parseBoolean('no'), false);
  assert.throws(() => parseBoolean('maybe'), /must be true or false/);
  assert.deepEqual(parseList('http://a:1, http://b:2 http://c:3'), ['http://a:1', 'http://b:2', 'http://c:3']);
  assert.deepEqual(parseList(''), []);
});

test('parseValue parses text by kind and leaves JSON values for the schema', () => {
  assert.equal(parseValue('size', '1KiB'), 1024);
  assert.equal(parseValue('size', 2048), 2048);
  assert.equal(parseValue('integer', '7'), 7);
  assert.equal(parseValue('string', '7'), '7');
  assert.equal(parseValue('boolean', true), true);
  assert.deepEqual(parseValue('list', ['x']), ['x']);
});
