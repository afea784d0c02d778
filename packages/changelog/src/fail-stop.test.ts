import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Changelog } from './changelog.js';
import { DiskFullError, StorageFailedError } from './errors.js';
import { FailingStore } from './test-stores.js';

async function openFailing(): Promise<{ fs: FailingStore; store: Changelog }> {
  const fs = new FailingStore();
  const store = await Changelog.openWith(fs.open, { location: '/data/db', recoveryIntervalMs: 0 });
  return { fs, store };
}

async function createIndexes(store: Changelog, names: string[]): Promise<number[]> {
  const serials: number[] = [];
  for (const name of names) serials.push((await store.write((tx) => tx.set(`index/root/${name}`, { bases: [] }))).serial!);
  return serials;
}

/** Serials of the records stored in the database under the wrapper. */
async function storedSerials(fs: FailingStore): Promise<number[]> {
  const serials: number[] = [];
  for await (const key of fs.inner.keys({ gte: 'r!', lt: 'r"' })) serials.push(Number(key.slice(2)));
  return serials;
}

describe('fail-stop storage', () => {
  it('a failed batch changes neither head nor state and answers DiskFullError naming the location', async () => {
    const { fs, store } = await openFailing();
    await createIndexes(store, ['a', 'b']);
    const digest = await store.stateDigest();
    fs.failNextBatches(1);
    await assert.rejects(store.write((tx) => tx.set('index/root/c', { bases: [] })), (err: unknown) => {
      assert.ok(err instanceof DiskFullError);
      assert.equal(err.code, 'EDISKFULL');
      assert.match(err.message, /no space left on the disk holding \/data\/db/);
      return true;
    });
    assert.equal(store.head, 1);
    assert.equal(store.get('index/root/c'), undefined);
    assert.equal(await store.stateDigest(), digest);
    assert.equal(store.storageHealth().state, 'failed');
    assert.equal(store.storageHealth().failures, 1);
    await store.close();
  });

  it('refuses the next write while the database cannot be reopened, then resumes after verification without reusing or losing a serial', async () => {
    const { fs, store } = await openFailing();
    await createIndexes(store, ['a', 'b', 'c']);
    fs.failNextBatches(1);
    fs.failReopens = 1;
    await assert.rejects(store.write((tx) => tx.set('index/root/x', {})), DiskFullError);
    // the disk is still full: reopening fails, the write is refused, nothing moves
    assert.equal(await store.recover(), false);
    await assert.rejects(store.write((tx) => tx.set('index/root/y', {})), StorageFailedError);
    assert.equal(store.head, 2);
    // space is back
    assert.equal(await store.recover(), true);
    assert.equal(store.storageHealth().state, 'ok');
    assert.equal(store.storageHealth().recoveries, 1);
    assert.deepEqual(await createIndexes(store, ['d', 'e', 'f', 'g', 'h']), [3, 4, 5, 6, 7]);
    assert.deepEqual(await storedSerials(fs), [0, 1, 2, 3, 4, 5, 6, 7]);
    const digest = await store.stateDigest();
    await store.close();
    const reopened = await Changelog.openWith(fs.open, { location: '/data/db' });
    assert.equal(reopened.head, 7);
    assert.equal(reopened.get('index/root/x'), undefined);
    assert.equal(await reopened.stateDigest(), digest);
    await reopened.close();
  });

  it('rolls back a failed batch that reached the disk anyway, so its serial is never handed out twice', async () => {
    const { fs, store } = await openFailing();
    await createIndexes(store, ['a']);
    fs.failNextBatches(1, { land: true });
    await assert.rejects(store.write((tx) => tx.set('index/root/lost', { v: 1 })), DiskFullError);
    assert.deepEqual(await storedSerials(fs), [0, 1]);
    assert.equal(await store.recover(), true);
    assert.deepEqual(await storedSerials(fs), [0]);
    assert.equal(await fs.inner.get('s!index/root/lost'), undefined);
    assert.deepEqual(await createIndexes(store, ['b']), [1]);
    await store.close();
    const reopened = await Changelog.openWith(fs.open, { location: '/data/db' });
    assert.equal(reopened.head, 1);
    assert.equal(reopened.get('index/root/lost'), undefined);
    assert.deepEqual(reopened.get('index/root/b'), { bases: [] });
    await reopened.close();
  });

  it('stops for good when the disk lost acknowledged serials', async () => {
    const { fs, store } = await openFailing();
    await createIndexes(store, ['a', 'b', 'c']);
    fs.failNextBatches(1);
    await assert.rejects(store.write((tx) => tx.set('index/root/x', {})), DiskFullError);
    // what LevelDB did when its log was torn: records after the tear vanish at the next open
    await fs.inner.batch([{ type: 'del', key: 'r!000000000002' }, { type: 'put', key: 'm!head', value: new TextEncoder().encode('1') }]);
    assert.equal(await store.recover(), false);
    const health = store.storageHealth();
    assert.equal(health.state, 'stopped');
    assert.match(health.message ?? '', /serial 2 was acknowledged/);
    await assert.rejects(store.write((tx) => tx.set('index/root/y', {})), StorageFailedError);
    assert.equal(await store.recover(), false);
    assert.equal(store.head, 2);
    await store.close();
  });

  it('a replica apply that fails is refused and the same serial applies after recovery (no skip)', async () => {
    const master = await Changelog.openInMemory();
    await createIndexes(master, ['a', 'b', 'c']);
    const records: Uint8Array[] = [];
    for await (const r of master.changesSince(0)) records.push(Uint8Array.from(r.bytes));
    const { fs, store: replica } = await openFailing();
    await replica.applyMany(records.slice(0, 1));
    fs.failNextBatches(1);
    fs.failReopens = 1;
    await assert.rejects(replica.applyMany(records.slice(1)), DiskFullError);
    await assert.rejects(replica.apply(records[1]!), StorageFailedError);
    assert.equal(replica.head, 0);
    assert.equal(await replica.recover(), true);
    assert.equal(await replica.applyMany(records.slice(1)), 2);
    assert.equal(replica.head, 2);
    assert.equal(await replica.stateDigest(), await master.stateDigest());
    await master.close();
    await replica.close();
  });

  it('retries recovery by itself every recoveryIntervalMs', async () => {
    const fs = new FailingStore();
    const store = await Changelog.openWith(fs.open, { location: '/data/db', recoveryIntervalMs: 20 });
    fs.failNextBatches(1, { message: 'IO error: sync failed' });
    await assert.rejects(store.write((tx) => tx.set('k', 1)), (err: unknown) => err instanceof StorageFailedError && err.code === 'ESTORAGE');
    const deadline = Date.now() + 5_000;
    while (store.storageHealth().state !== 'ok' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(store.storageHealth().state, 'ok');
    assert.equal((await store.write((tx) => tx.set('k', 2))).serial, 0);
    await store.close();
  });
});
