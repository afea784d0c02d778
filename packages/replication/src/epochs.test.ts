import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Changelog } from '@wheelhouse/changelog';
import { currentEpoch, epochHistory, feedVerdict, masterVerdict, newerTermStart, parseEpoch, trackEpoch, writeEpoch, type EpochRecord } from './epochs.js';
import { FakeMaster } from './fake-master.test-helpers.js';
import { Tailer } from './tailer.js';
import { silent, waitFor, writeHistory } from './test-support.test-helpers.js';

const term = (epoch: number, serial: number): EpochRecord => ({ epoch, uuid: `u${epoch}`, url: '', serial, at: 0 });

describe('epoch history and comparisons', () => {
  it('a store without epoch keys is in epoch 1 from serial 0; recorded epochs come oldest first', async () => {
    const c = await Changelog.openInMemory();
    assert.deepEqual(epochHistory(c).map((e) => [e.epoch, e.serial]), [[1, 0]]);
    await c.write((tx) => writeEpoch(tx, { epoch: 1, uuid: c.uuid, url: '', serial: tx.serial, at: tx.at }));
    await writeHistory(c, 3);
    await c.write((tx) => writeEpoch(tx, { epoch: 10, uuid: 'x', url: 'http://b', serial: tx.serial, at: tx.at }));
    await c.write((tx) => writeEpoch(tx, { epoch: 2, uuid: 'y', url: '', serial: tx.serial, at: tx.at }));
    // sorted numerically, not as key strings ('+epoch/10' < '+epoch/2')
    assert.deepEqual(epochHistory(c).map((e) => e.epoch), [1, 2, 10]);
    assert.equal(currentEpoch(c), 10);
    await c.close();
  });

  it('an epoch record must start at the serial it is written in', async () => {
    const c = await Changelog.openInMemory();
    await assert.rejects(c.write((tx) => writeEpoch(tx, { epoch: 2, uuid: '', url: '', serial: tx.serial + 1, at: 0 })), RangeError);
    assert.equal(c.head, -1, 'nothing committed');
    await c.close();
  });

  it('trackEpoch follows commits that write an epoch key', async () => {
    const c = await Changelog.openInMemory();
    const t = trackEpoch(c);
    assert.equal(t.epoch(), 1);
    await c.write((tx) => writeEpoch(tx, { epoch: 3, uuid: '', url: '', serial: tx.serial, at: 0 }));
    assert.equal(t.epoch(), 3);
    t.stop();
    await c.close();
  });

  it('parses epoch headers strictly (no claim from junk)', () => {
    assert.equal(parseEpoch('7'), 7);
    assert.equal(parseEpoch(['3', '9']), 3);
    for (const bad of [undefined, '', '0', '-1', '1.5', '1e3', 'abc', '9'.repeat(16)]) assert.equal(parseEpoch(bad), undefined, String(bad));
  });

  it('the feed serves the same epoch, fences on a higher one, and refuses a replica past the start of a newer term', () => {
    const history = [term(1, 0), term(2, 10), term(3, 20)];
    assert.equal(newerTermStart(history, 1), 10);
    assert.equal(newerTermStart(history, 3), undefined);
    assert.equal(feedVerdict(history, 3, 25), 'serve');
    assert.equal(feedVerdict(history, undefined, 25), 'serve', 'no claim: served (replicas before epochs)');
    assert.equal(feedVerdict(history, 4, 25), 'fence', 'the replica follows a newer master');
    assert.equal(feedVerdict(history, 1, 10), 'serve', 'head 9: everything before epoch 2 began');
    assert.equal(feedVerdict(history, 1, 11), 'diverged', 'head 10: holds serial 10 of epoch 1, but epoch 2 began there');
    assert.equal(feedVerdict(history, 2, 20), 'serve');
    assert.equal(feedVerdict(history, 2, 21), 'diverged');
  });

  it('a replica follows a master of its epoch or a newer one, and refuses an older one', () => {
    assert.equal(masterVerdict(2, 2), 'follow');
    assert.equal(masterVerdict(2, 3), 'follow');
    assert.equal(masterVerdict(2, 1), 'refuse');
    assert.equal(masterVerdict(2, undefined), 'refuse', 'a master without epochs is in epoch 1');
    assert.equal(masterVerdict(1, undefined), 'follow');
  });
});

describe('tailer and epochs (fake master)', () => {
  let master: Changelog;
  let replica: Changelog;
  let tailer: Tailer | undefined;
  beforeEach(async () => {
    master = await Changelog.openInMemory();
    replica = await Changelog.openInMemory();
    await master.write((tx) => writeEpoch(tx, { epoch: 1, uuid: master.uuid, url: '', serial: tx.serial, at: tx.at }));
    await writeHistory(master, 4);
  });
  afterEach(async () => {
    await tailer?.stop();
    tailer = undefined;
    await replica.close();
    await master.close();
  });

  it('sends its epoch, takes the epoch records, and then refuses records from a master of a lower epoch', async () => {
    const fake = new FakeMaster(master);
    fake.epoch = 1;
    tailer = new Tailer({ changelog: replica, master: fake, log: silent });
    tailer.start();
    await waitFor(() => replica.head === master.head, 'catch-up');
    assert.equal(fake.streamEpochs[0], 1);
    await master.write((tx) => writeEpoch(tx, { epoch: 2, uuid: master.uuid, url: '', serial: tx.serial, at: tx.at }));
    await waitFor(() => tailer!.epoch() === 2, 'epoch 2 applied');
    // the same master now says it is in epoch 1 (an old master on the URL): nothing more is applied
    fake.epoch = 1;
    fake.restart(master.uuid);
    const head = replica.head;
    await master.write((tx) => tx.set('test/after', { stale: true }));
    await waitFor(() => (tailer!.state.error ?? '').includes('older than'), 'the refusal');
    assert.equal(replica.head, head, 'no record of the lower-epoch master was applied');
    assert.equal(replica.get('test/after'), undefined);
  });

  it('follows a promoted master (new store UUID, higher epoch) without a fatal state, and stops as diverged on 409', async () => {
    const fake = new FakeMaster(master);
    fake.epoch = 1;
    tailer = new Tailer({ changelog: replica, master: fake, log: silent });
    tailer.start();
    await waitFor(() => replica.head === master.head, 'catch-up');
    await master.write((tx) => writeEpoch(tx, { epoch: 2, uuid: 'promoted', url: '', serial: tx.serial, at: tx.at }));
    fake.epoch = 2;
    fake.restart('promoted-store-uuid');
    await waitFor(() => replica.head === master.head && tailer!.epoch() === 2, 'follows the promoted master');
    assert.equal(tailer.state.masterUuid, 'promoted-store-uuid');
    assert.equal(tailer.state.fatal, undefined);
    // a new UUID with the same epoch is still a different history: fatal (unchanged rule)
    fake.restart('imposter');
    await waitFor(() => tailer!.state.fatal !== undefined, 'fatal on a same-epoch UUID change');
    await tailer.stop();

    const other = await Changelog.openInMemory();
    const fake2 = new FakeMaster(master);
    fake2.epoch = 2;
    fake2.refuse = { status: 409, message: 'the replica diverged and must rejoin' };
    tailer = new Tailer({ changelog: other, master: fake2, log: silent });
    tailer.start();
    await waitFor(() => tailer!.state.fatal !== undefined, 'diverged');
    assert.match(tailer.state.fatal!, /diverged.*must rejoin/);
    await tailer.stop();
    await other.close();
  });
});
