import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Changelog } from '@wheelhouse/changelog';
import { FakeMaster } from './fake-master.test-helpers.js';
import { FRAME_HEADER_BYTES, encodeFrame } from './frames.js';
import { Tailer, type TailerOptions } from './tailer.js';
import { silent, waitFor, writeHistory } from './test-support.test-helpers.js';

/** The frames of every master record from `since` on, one buffer each. */
async function framesOf(master: Changelog, since: number, skip: (serial: number) => boolean = () => false): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const rec of master.changesSince(since)) if (!skip(rec.serial)) out.push(encodeFrame(rec.bytes));
  return out;
}

describe('tailer against an in-memory master', () => {
  let master: Changelog;
  let replica: Changelog;
  let tailer: Tailer | undefined;

  beforeEach(async () => {
    master = await Changelog.openInMemory();
    replica = await Changelog.openInMemory();
    await writeHistory(master, 6);
  });
  afterEach(async () => {
    await tailer?.stop();
    tailer = undefined;
    await replica.close();
    await master.close();
  });

  const tail = (fake: FakeMaster, extra: Partial<TailerOptions> = {}): Tailer => {
    tailer = new Tailer({ changelog: replica, master: fake, log: silent, ...extra });
    tailer.start();
    return tailer;
  };

  it('catches up, then follows new commits live; state digests equal the master at every serial', async () => {
    const t = tail(new FakeMaster(master));
    await waitFor(() => replica.head === master.head && t.state.initialSyncDone, 'catch-up');
    assert.equal(t.state.masterUuid, master.uuid);
    assert.equal(replica.getMeta('master-uuid'), master.uuid);
    await master.write((tx) => tx.set('test/live', { live: true }));
    await master.write((tx) => tx.delete('test/value-3'));
    await waitFor(() => replica.head === master.head, 'live records');
    assert.equal(t.state.applied, master.head + 1);
    for (let serial = 0; serial <= master.head; serial++) assert.equal(await replica.stateDigest(serial), await master.stateDigest(serial), `digest at serial ${serial}`);
    assert.equal(t.state.masterSerial, master.head);
    assert.equal(t.state.fatal, undefined);
  });

  it('resumes from its own head + 1 (it never asks again for what it has)', async () => {
    for await (const rec of master.changesSince(0)) if (rec.serial <= 2) await replica.apply(rec.bytes);
    const fake = new FakeMaster(master);
    tail(fake);
    await waitFor(() => replica.head === master.head, 'catch-up');
    assert.equal(fake.streamRequests[0], 3);
  });

  it('a master with a new store UUID is fatal: replication stops, the state stays as it was', async () => {
    const fake = new FakeMaster(master);
    const t = tail(fake);
    await waitFor(() => replica.head === master.head, 'catch-up');
    const head = replica.head;
    fake.restart('rebuilt-master-uuid');
    await master.write((tx) => tx.set('test/after-rebuild', { x: 1 }));
    await waitFor(() => t.state.fatal !== undefined, 'fatal state', 3_000);
    assert.match(t.state.fatal!, /UUID changed from .* to rebuilt-master-uuid/);
    assert.equal(replica.head, head, 'nothing of the new master applied');
    const requests = fake.streamRequests.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fake.streamRequests.length, requests, 'no further requests once fatal');
    assert.equal(replica.getMeta('master-uuid'), master.uuid);
  });

  it('following new masters: a new UUID calls onMasterChange once and supersedes the tailer, no fatal state', async () => {
    const fake = new FakeMaster(master);
    const changes: string[] = [];
    const t = tail(fake, { onMasterChange: (uuid) => changes.push(uuid) });
    await waitFor(() => replica.head === master.head, 'catch-up');
    const head = replica.head;
    fake.restart('next-master-uuid');
    await waitFor(() => t.state.superseded !== undefined, 'superseded', 3_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(changes, ['next-master-uuid']);
    assert.equal(t.state.superseded, 'next-master-uuid');
    assert.equal(t.state.fatal, undefined);
    assert.equal(replica.head, head);
  });

  it('refuses a gap in serials (SerialGapError): nothing of the batch is applied, and it retries', async () => {
    const fake = new FakeMaster(master, { frames: async (since) => [Buffer.concat(await framesOf(master, since, (s) => s === 2))] });
    const t = tail(fake);
    await waitFor(() => fake.streamRequests.length >= 2 && t.state.error !== undefined, 'the gap refused twice');
    assert.match(t.state.error!, /cannot apply serial 3: the next serial of this store is 2/);
    assert.equal(replica.head, -1, 'serials 0 and 1 of the same batch not applied either');
    assert.equal(t.state.applied, 0);
    assert.deepEqual(fake.streamRequests.slice(0, 2), [0, 0]);
  });

  it('refuses a corrupt frame: records before it apply, it and those after never do', async () => {
    const corruptSerial = 2;
    const fake = new FakeMaster(master, {
      frames: async (since) => {
        const out: Uint8Array[] = [];
        for await (const rec of master.changesSince(since)) {
          const frame = encodeFrame(rec.bytes);
          if (rec.serial === corruptSerial) frame[FRAME_HEADER_BYTES + 1] = (frame[FRAME_HEADER_BYTES + 1] ?? 0) ^ 0xff;
          out.push(frame);
        }
        return out;
      },
    });
    const t = tail(fake);
    await waitFor(() => fake.streamRequests.length >= 2 && t.state.error !== undefined, 'the corrupt frame refused twice');
    assert.match(t.state.error!, /frame checksum mismatch/);
    assert.equal(replica.head, corruptSerial - 1);
    assert.equal(fake.streamRequests[1], corruptSerial, 'retried from the corrupt serial');
    assert.equal(await replica.stateDigest(), await master.stateDigest(corruptSerial - 1));
  });

  it('a stream cut inside a frame is an error, and the complete records before it stay applied', async () => {
    const fake = new FakeMaster(master, {
      frames: async (since) => {
        const frames = await framesOf(master, since);
        const last = frames.pop()!;
        return [...frames, last.subarray(0, last.length - 3)];
      },
    });
    const t = tail(fake);
    await waitFor(() => t.state.error !== undefined, 'truncation noticed');
    assert.match(t.state.error!, /ended inside a frame/);
    assert.equal(replica.head, master.head - 1);
  });
});
