import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChangeRecord } from './change-record.js';
import { decodeRecord } from './record-codec.js';
import { StoreClosedError } from './errors.js';
import { STORE_KINDS, openTestStore } from './test-stores.js';

for (const kind of STORE_KINDS) {
  describe(`Changelog (${kind})`, () => {
    it('starts empty at head -1 with a 32-hex uuid', async () => {
      const { store, dispose } = await openTestStore(kind);
      assert.equal(store.head, -1);
      assert.match(store.uuid, /^[0-9a-f]{32}$/);
      assert.deepEqual(store.children(''), []);
      await dispose();
    });

    it('commits sets and deletes as one record per write, readable at once', async () => {
      const { store, dispose } = await openTestStore(kind);
      const first = await store.write((tx) => {
        assert.equal(tx.serial, 0);
        tx.set('user/alice', { name: 'alice' });
        tx.set('index/alice/dev', { bases: [] });
        tx.set('release/alice/dev/requests/2.31.0', { files: ['a'] });
        tx.set('release/alice/dev/requests/2.30.0', { files: [] });
        return 'done';
      });
      assert.deepEqual(first, { serial: 0, result: 'done' });
      assert.equal(store.head, 0);
      assert.deepEqual(store.get('user/alice'), { name: 'alice' });
      assert.deepEqual(store.children('release/alice/dev/requests'), [
        'release/alice/dev/requests/2.30.0',
        'release/alice/dev/requests/2.31.0',
      ]);
      assert.deepEqual(store.children('user'), ['user/alice']);

      const second = await store.write((tx) => {
        tx.delete('release/alice/dev/requests/2.30.0');
        tx.set('user/bob', { name: 'bob' });
      });
      assert.equal(second.serial, 1);
      assert.equal(store.get('release/alice/dev/requests/2.30.0'), undefined);
      assert.deepEqual(store.children('release/alice/dev/requests'), ['release/alice/dev/requests/2.31.0']);
      assert.deepEqual(store.children('user'), ['user/alice', 'user/bob']);

      const records: ChangeRecord[] = [];
      for await (const { serial, bytes } of store.changesSince(0)) {
        const record = decodeRecord(bytes);
        assert.equal(record.serial, serial);
        records.push(record);
      }
      assert.deepEqual(records.map((r) => r.changes), [
        [
          { key: 'index/alice/dev', value: { bases: [] } },
          { key: 'release/alice/dev/requests/2.30.0', value: { files: [] } },
          { key: 'release/alice/dev/requests/2.31.0', value: { files: ['a'] } },
          { key: 'user/alice', value: { name: 'alice' } },
        ],
        [
          { key: 'release/alice/dev/requests/2.30.0', value: null },
          { key: 'user/bob', value: { name: 'bob' } },
        ],
      ]);
      assert.equal((await store.getRecord(1))?.serial, 1);
      assert.equal(await store.getRecord(2), undefined);
      await dispose();
    });

    it('a write function that throws writes nothing and leaves head unchanged', async () => {
      const { store, dispose } = await openTestStore(kind);
      await store.write((tx) => tx.set('a', 1));
      await assert.rejects(
        store.write(async (tx) => {
          tx.set('a', 2);
          tx.set('b', 3);
          await new Promise((resolve) => setTimeout(resolve, 5));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(store.head, 0);
      assert.equal(store.get('a'), 1);
      assert.equal(store.get('b'), undefined);
      assert.equal(await store.getRecord(1), undefined);
      // the queue keeps working after a failed write
      assert.equal((await store.write((tx) => tx.set('b', 4))).serial, 1);
      await dispose();
    });

    it('a write without effective changes writes no record (serial null)', async () => {
      const { store, dispose } = await openTestStore(kind);
      assert.deepEqual(await store.write(() => 7), { serial: null, result: 7 });
      assert.deepEqual(await store.write((tx) => {
        tx.set('new', 1);
        tx.delete('new');
        tx.delete('never-existed');
      }), { serial: null, result: undefined });
      assert.equal(store.head, -1);
      await dispose();
    });

    it('serialises 50 concurrent increments with consecutive serials and no lost update', async () => {
      const { store, dispose } = await openTestStore(kind);
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          store.write(async (tx) => {
            const n = tx.get<number>('counter') ?? 0;
            await new Promise((resolve) => setImmediate(resolve));
            tx.set('counter', n + 1);
            return n + 1;
          }),
        ),
      );
      assert.equal(store.get('counter'), 50);
      assert.equal(store.head, 49);
      assert.deepEqual(results.map((r) => r.serial), Array.from({ length: 50 }, (_, i) => i));
      assert.deepEqual(results.map((r) => r.result), Array.from({ length: 50 }, (_, i) => i + 1));
      await dispose();
    });

    it('transaction reads see its own pending writes, children included', async () => {
      const { store, dispose } = await openTestStore(kind);
      await store.write((tx) => {
        tx.set('p/a', 1);
        tx.set('p/b', 2);
      });
      await store.write((tx) => {
        tx.set('p/c', 3);
        tx.delete('p/a');
        assert.equal(tx.get('p/a'), undefined);
        assert.equal(tx.get('p/c'), 3);
        assert.deepEqual(tx.children('p'), ['p/b', 'p/c']);
        assert.deepEqual(store.children('p'), ['p/a', 'p/b']); // not visible outside before commit
        tx.set('p/a', 9); // last write wins
      });
      assert.deepEqual(store.children('p'), ['p/a', 'p/b', 'p/c']);
      assert.equal(store.get('p/a'), 9);
      await dispose();
    });

    it('stores a frozen copy: callers can neither mutate shared state nor leak later edits in', async () => {
      const { store, dispose } = await openTestStore(kind);
      const value = { list: [1, 2], nested: { b: 1, a: 2 }, skip: undefined };
      await store.write((tx) => tx.set('k', value));
      value.list.push(3);
      const stored = store.get<{ list: number[]; nested: Record<string, number> }>('k');
      assert.deepEqual(stored, { list: [1, 2], nested: { a: 2, b: 1 } });
      assert.ok(Object.isFrozen(stored) && Object.isFrozen(stored?.list));
      assert.throws(() => {
        stored?.list.push(4);
      }, TypeError);
      await dispose();
    });

    it('refuses values that are not plain data and set/delete after the transaction ended', async () => {
      const { store, dispose } = await openTestStore(kind);
      for (const bad of [new Date(0), new Map(), 10n, [undefined], { x: () => 1 }, null, undefined, new Uint8Array(2)]) {
        await assert.rejects(store.write((tx) => tx.set('k', bad)), TypeError);
      }
      let leaked: { set(k: string, v: unknown): void } | undefined;
      await store.write((tx) => {
        leaked = tx;
      });
      assert.throws(() => leaked?.set('k', 1), /has ended/);
      assert.equal(store.head, -1);
      await dispose();
    });

    it('waitForSerial resolves on commit and times out to false', async () => {
      const { store, dispose } = await openTestStore(kind);
      const waiting = store.waitForSerial(1, 5_000);
      const timedOut = store.waitForSerial(5, 30);
      await store.write((tx) => tx.set('a', 1));
      await store.write((tx) => tx.set('a', 2));
      assert.equal(await waiting, true);
      assert.equal(await timedOut, false);
      assert.equal(await store.waitForSerial(0, 0), true);
      const pendingAtClose = store.waitForSerial(10, 5_000);
      await dispose();
      assert.equal(await pendingAtClose, false);
    });

    it('onCommit listeners see each committed record after it is visible, until unsubscribed', async () => {
      const { store, dispose } = await openTestStore(kind);
      const seen: Array<[number, unknown]> = [];
      const off = store.onCommit((record) => seen.push([record.serial, store.get('a')]));
      await store.write((tx) => tx.set('a', 1));
      await store.write(() => undefined);
      off();
      await store.write((tx) => tx.set('a', 2));
      assert.deepEqual(seen, [[0, 1]]);
      await dispose();
    });

    it('keeps metadata outside the changelog', async () => {
      const { store, dispose } = await openTestStore(kind);
      assert.equal(store.getMeta('master-uuid'), undefined);
      await store.setMeta('master-uuid', 'abc');
      assert.equal(store.getMeta('master-uuid'), 'abc');
      assert.equal(store.head, -1);
      await dispose();
    });

    it('stateDigest at an old serial equals the digest taken when that serial was head', async () => {
      const { store, dispose } = await openTestStore(kind);
      const digests = [await store.stateDigest()];
      for (let i = 0; i < 5; i++) {
        await store.write((tx) => {
          tx.set(`k/${i}`, { i });
          if (i > 0) tx.delete(`k/${i - 1}`);
        });
        digests.push(await store.stateDigest());
      }
      assert.equal(new Set(digests).size, digests.length);
      for (let serial = -1; serial <= store.head; serial++) assert.equal(await store.stateDigest(serial), digests[serial + 1]);
      await assert.rejects(store.stateDigest(store.head + 1), RangeError);
      await dispose();
    });

    it('rejects writes after close', async () => {
      const { store, dispose } = await openTestStore(kind);
      await dispose();
      await assert.rejects(store.write((tx) => tx.set('a', 1)), StoreClosedError);
    });
  });
}
