import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Packr } from 'msgpackr';
import { RecordFormatError } from './errors.js';
import { decodeRecord, encodeRecord } from './record-codec.js';

describe('record codec', () => {
  it('round-trips a record and encodes deterministically', () => {
    const record = { serial: 7, at: 1_700_000_000_123, changes: [{ key: 'a/b', value: { x: [1, 2.5, 'y', true, null] } }, { key: 'c', value: null }] };
    const bytes = encodeRecord(record);
    assert.deepEqual(decodeRecord(bytes), record);
    assert.deepEqual(encodeRecord(record), bytes);
    assert.deepEqual(encodeRecord(decodeRecord(bytes)), bytes);
  });

  it('throws RecordFormatError on bytes that are not a record', () => {
    const packr = new Packr({ useRecords: false });
    for (const bad of [new Uint8Array(), new Uint8Array([0xc1]), packr.pack([1, 2]), packr.pack({ serial: -1, at: 0, changes: [] }),
      packr.pack({ serial: 1, at: 0, changes: [{ value: 1 }] }), packr.pack({ serial: 1, at: 0, changes: [{ key: 'k', value: new Date(0) }] })]) {
      assert.throws(() => decodeRecord(bad), (err: unknown) => err instanceof RecordFormatError && err.code === 'ERECORDFORMAT');
    }
  });
});
