import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Changelog } from '@wheelhouse/changelog';
import { attachFile, createIndex, createUser } from '@wheelhouse/core';
import { DurableAcks } from './durable-acks.js';
import { silent, waitFor } from './test-support.test-helpers.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('durable confirmations of a replica', () => {
  const setup = async () => {
    const replica = await Changelog.openInMemory();
    const sent: number[] = [];
    let fail = false;
    const acks = new DurableAcks({
      head: () => replica.head,
      send: async (serial) => {
        if (fail) throw new Error('master unreachable');
        sent.push(serial);
      },
      log: silent,
    });
    replica.onCommit((r) => acks.onRecord(r));
    await replica.write((tx) => createUser(tx, 'alice', { pwhash: 'x', email: 'a@example.org' }));
    await replica.write((tx) => void createIndex(tx, 'alice', 'dev', {}));
    const release = (name: string) =>
      replica.write((tx) => attachFile(tx, 'alice/dev', { name, version: '1.0' }, { filename: `${name}-1.0.tar.gz`, sha256: sha256(name), size: name.length }, 'releasefile', 'alice'));
    return { replica, acks, sent, release, setFail: (v: boolean) => (fail = v) };
  };

  it('confirms nothing before the start-up scan, then a serial only once the blobs of it and of every serial before are stored', async () => {
    const { replica, acks, sent, release } = await setup();
    acks.onMissing(sha256('resumed-file'));
    await release('one'); // serial 2
    assert.deepEqual(sent, [], 'nothing before the scan');
    acks.onScanned();
    assert.deepEqual(sent, [], 'a file of the resumed state is missing');
    acks.onSettled(sha256('resumed-file'));
    await waitFor(() => sent.at(-1) === 1, 'serials up to the one before the pending file');
    await release('two'); // serial 3
    acks.onSettled(sha256('two'));
    await new Promise((r) => setImmediate(r));
    assert.equal(acks.durableSerial(), 1, "serial 3's file is here, but serial 2's is not: still 1");
    acks.onSettled(sha256('one'));
    await waitFor(() => sent.at(-1) === 3, 'serial 3 once both files are stored');
    await replica.write((tx) => tx.set('test/plain', { v: 1 })); // no blob: confirmed at once
    await waitFor(() => sent.at(-1) === 4, 'serial 4');
    assert.ok(sent.every((s, i) => i === 0 || s > sent[i - 1]!), `confirmations only grow: ${sent.join(',')}`);
    acks.close();
    await replica.close();
  });

  it('a file the master cannot deliver (404, damaged) settles its serial, so one lost file does not hold every later confirmation', async () => {
    const { acks, sent, release } = await setup();
    acks.onScanned();
    await release('lost'); // serial 2
    await new Promise((r) => setImmediate(r));
    assert.equal(acks.durableSerial(), 1);
    acks.onSettled(sha256('lost'), 'unavailable');
    await waitFor(() => sent.at(-1) === 2, 'serial 2 confirmed past the lost file');
    acks.close();
  });

  it('a failed confirmation is sent again (back-off), and again in full after a new stream', async () => {
    const { replica, acks, sent, setFail } = await setup();
    acks.onScanned();
    await waitFor(() => sent.at(-1) === 1, 'serial 1');
    setFail(true);
    await replica.write((tx) => tx.set('test/plain', { v: 1 }));
    await new Promise((r) => setTimeout(r, 20));
    setFail(false);
    await waitFor(() => sent.at(-1) === 2, 'serial 2 after the master is back', 2_000);
    const count = sent.length;
    acks.resend();
    await waitFor(() => sent.length === count + 1 && sent.at(-1) === 2, 'the same serial again for a master that may have restarted');
    acks.close();
    await replica.close();
  });
});
