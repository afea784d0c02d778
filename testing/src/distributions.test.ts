import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { buildSdist, buildWheel, wheelDistName } from './distributions.js';
import { crc32 } from './stored-zip.js';

/** The stored (uncompressed) entries of a zip written by storedZip, read from its local headers. */
function zipEntries(zip: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (zip.readUInt32LE(pos) === 0x04034b50) {
    const size = zip.readUInt32LE(pos + 18);
    const nameLen = zip.readUInt16LE(pos + 26);
    const name = zip.subarray(pos + 30, pos + 30 + nameLen).toString('utf8');
    const data = zip.subarray(pos + 30 + nameLen, pos + 30 + nameLen + size);
    assert.equal(zip.readUInt32LE(pos + 14), crc32(data), `crc of ${name}`);
    out.set(name, data);
    pos += 30 + nameLen + size;
  }
  return out;
}

test('crc32 is IEEE 802.3 (the check value of "123456789")', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('buildWheel: PEP 427 file name; METADATA, WHEEL, RECORD and the module inside', () => {
  const w = buildWheel('Wh.Demo-pkg', '1.0', { metadataLines: ['Requires-Dist: six'] });
  assert.equal(w.filename, 'Wh_Demo_pkg-1.0-py3-none-any.whl');
  const entries = zipEntries(w.content);
  assert.deepEqual(entries.get('Wh_Demo_pkg-1.0.dist-info/METADATA'), w.metadata);
  assert.match(w.metadata.toString(), /^Metadata-Version: 2\.1\nName: Wh\.Demo-pkg\nVersion: 1\.0\n.*Requires-Python: >=3\.8\nRequires-Dist: six\n\n$/s);
  assert.ok(entries.has('Wh_Demo_pkg/__init__.py'));
  assert.match(entries.get('Wh_Demo_pkg-1.0.dist-info/RECORD')!.toString(), /METADATA,sha256=[\w-]+,\d+\n/);
  assert.equal(wheelDistName('a.b-c__d'), 'a_b_c_d');
  assert.ok(zipEntries(buildWheel('m', '2', { layout: 'module' }).content).has('m.py'));
});

test('buildSdist: a gzip\'d tar with PKG-INFO, pyproject.toml and the module under name-version/', () => {
  const s = buildSdist('wh-x', '0.3');
  assert.equal(s.filename, 'wh_x-0.3.tar.gz');
  const tar = gunzipSync(s.content);
  const names: string[] = [];
  for (let pos = 0; pos + 512 <= tar.length && tar[pos] !== 0;) {
    const name = tar.subarray(pos, pos + 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(tar.subarray(pos + 124, pos + 136).toString('latin1'), 8);
    names.push(name);
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  assert.deepEqual(names, ['wh_x-0.3/PKG-INFO', 'wh_x-0.3/pyproject.toml', 'wh_x-0.3/wh_x.py']);
});
