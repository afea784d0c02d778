import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Level } from 'level';
import { Changelog } from './changelog.js';
import { NotInitialisedError, StoreCorruptError } from './errors.js';
import { makeTempDir } from './test-stores.js';

describe('Changelog on disk', () => {
  it('reopening keeps uuid, head, state, children and metadata', async () => {
    const dir = await makeTempDir();
    const location = join(dir, 'db');
    assert.equal(await Changelog.exists(location), false);
    const first = await Changelog.open({ location, create: true });
    assert.equal(await Changelog.exists(location), true); // while open (locked)
    for (let i = 0; i < 10; i++) await first.write((tx) => tx.set(`item/${i}`, { i }));
    await first.write((tx) => tx.delete('item/3'));
    await first.setMeta('master-uuid', 'f00');
    const { uuid, head } = first;
    const digest = await first.stateDigest();
    await first.close();

    assert.equal(await Changelog.exists(location), true);
    const second = await Changelog.open({ location });
    assert.equal(second.uuid, uuid);
    assert.equal(second.head, head);
    assert.equal(second.head, 10);
    assert.deepEqual(second.get('item/4'), { i: 4 });
    assert.equal(second.get('item/3'), undefined);
    assert.equal(second.children('item').length, 9);
    assert.equal(second.getMeta('master-uuid'), 'f00');
    assert.equal(await second.stateDigest(), digest);
    assert.equal((await second.write((tx) => tx.set('x', 1))).serial, 11);
    await second.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('open without create on an empty or missing directory throws NotInitialisedError', async () => {
    const dir = await makeTempDir();
    await assert.rejects(Changelog.open({ location: dir }), (err: unknown) => err instanceof NotInitialisedError && err.code === 'ENOTINIT');
    await assert.rejects(Changelog.open({ location: join(dir, 'missing') }), NotInitialisedError);
    assert.equal(await Changelog.exists(dir), false);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to open a database whose records have a gap', async () => {
    const dir = await makeTempDir();
    const location = join(dir, 'db');
    const store = await Changelog.open({ location, create: true });
    for (let i = 0; i < 3; i++) await store.write((tx) => tx.set('a', i));
    await store.close();
    const raw = new Level<string, Uint8Array>(location, { valueEncoding: 'view' });
    await raw.del('r!000000000001');
    await raw.close();
    await assert.rejects(Changelog.open({ location }), StoreCorruptError);
    await rm(dir, { recursive: true, force: true });
  });
});
