import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Changelog } from './changelog.js';
import { RecordFormatError, SerialGapError } from './errors.js';
import { decodeRecord } from './record-codec.js';
import { STORE_KINDS, openTestStore } from './test-stores.js';

/** Fill a master with a mix of sets, overwrites and deletes over `count` commits. */
async function fillMaster(master: Changelog, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await master.write((tx) => {
      tx.set(`project/alice/dev/p${i % 7}`, { version: i, tags: [`t${i}`], ok: i % 2 === 0 });
      tx.set('counter', i);
      if (i % 5 === 4) tx.delete(`project/alice/dev/p${(i + 3) % 7}`);
    });
  }
}

for (const kind of STORE_KINDS) {
  describe(`Changelog.apply (${kind} replica)`, () => {
    it('a replica applying every record reaches the same state digest at every serial, with identical bytes', async () => {
      const master = await Changelog.openInMemory();
      await fillMaster(master, 30);
      const { store: replica, dispose } = await openTestStore(kind);
      const applied: number[] = [];
      replica.onCommit((record) => applied.push(record.serial));
      for await (const { serial, bytes } of master.changesSince(0)) {
        assert.equal(await replica.apply(bytes), true);
        assert.equal(replica.head, serial);
        assert.equal(await replica.stateDigest(), await master.stateDigest(serial));
      }
      for (let serial = -1; serial <= master.head; serial++) {
        assert.equal(await replica.stateDigest(serial), await master.stateDigest(serial));
      }
      assert.deepEqual(applied, Array.from({ length: 30 }, (_, i) => i));
      assert.deepEqual(replica.children('project/alice/dev'), master.children('project/alice/dev'));
      for (let serial = 0; serial <= master.head; serial++) {
        assert.deepEqual((await replica.getRecord(serial))?.bytes, (await master.getRecord(serial))?.bytes);
      }
      await master.close();
      await dispose();
    });

    it('re-applying an applied serial is a no-op; a gap throws SerialGapError', async () => {
      const master = await Changelog.openInMemory();
      await fillMaster(master, 3);
      const { store: replica, dispose } = await openTestStore(kind);
      const bytes = async (serial: number): Promise<Uint8Array> => {
        const record = await master.getRecord(serial);
        assert.ok(record);
        return record.bytes;
      };
      assert.equal(await replica.apply(await bytes(0)), true);
      const digest = await replica.stateDigest();
      assert.equal(await replica.apply(await bytes(0)), false);
      assert.equal(replica.head, 0);
      assert.equal(await replica.stateDigest(), digest);
      await assert.rejects(replica.apply(await bytes(2)), (err: unknown) => {
        assert.ok(err instanceof SerialGapError);
        assert.equal(err.code, 'ESERIALGAP');
        assert.equal(err.expected, 1);
        assert.equal(err.got, 2);
        return true;
      });
      assert.equal(replica.head, 0);
      assert.equal(await replica.apply(decodeRecord(await bytes(1))), true); // decoded form works too
      assert.equal(await replica.apply(await bytes(2)), true);
      assert.equal(await replica.stateDigest(), await master.stateDigest());
      await master.close();
      await dispose();
    });

    it('rejects bytes that are not a record without changing anything', async () => {
      const { store: replica, dispose } = await openTestStore(kind);
      await assert.rejects(replica.apply(new Uint8Array([0xc1, 1, 2])), RecordFormatError);
      assert.equal(replica.head, -1);
      await dispose();
    });
  });
}

for (const kind of STORE_KINDS) {
  describe(`Changelog.applyMany (${kind} replica)`, () => {
    it('applies runs of records in one batch: same digest and listener order as one by one; overlaps are skipped', async () => {
      const master = await Changelog.openInMemory();
      await fillMaster(master, 25);
      const all: Uint8Array[] = [];
      for await (const { bytes } of master.changesSince(0)) all.push(bytes);
      const { store: replica, dispose } = await openTestStore(kind);
      const applied: number[] = [];
      replica.onCommit((record) => applied.push(record.serial));
      assert.equal(await replica.applyMany(all.slice(0, 10)), 10);
      // 5..19 overlaps what is there: 5..9 skipped, 10..19 applied
      assert.equal(await replica.applyMany(all.slice(5, 20)), 10);
      assert.equal(await replica.applyMany(all.slice(20)), 5);
      assert.equal(replica.head, master.head);
      assert.deepEqual(applied, Array.from({ length: 25 }, (_, i) => i));
      assert.equal(await replica.stateDigest(), await master.stateDigest());
      await master.close();
      await dispose();
    });

    it('a gap rejects with SerialGapError before anything is written', async () => {
      const master = await Changelog.openInMemory();
      await fillMaster(master, 6);
      const all: Uint8Array[] = [];
      for await (const { bytes } of master.changesSince(0)) all.push(bytes);
      const { store: replica, dispose } = await openTestStore(kind);
      await replica.applyMany(all.slice(0, 2));
      await assert.rejects(replica.applyMany([all[2]!, all[4]!]), SerialGapError);
      assert.equal(replica.head, 1);
      await master.close();
      await dispose();
    });
  });
}
