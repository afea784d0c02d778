import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Changelog } from './changelog.js';

it('a write guard refuses local writes when their turn comes (nothing committed, serial not used); apply is not guarded', async () => {
  const c = await Changelog.openInMemory();
  await c.write((tx) => tx.set('a', 1));
  let refuse = false;
  c.guardWrites(() => {
    if (refuse) throw new Error('fenced: test');
  });
  await c.write((tx) => tx.set('b', 2));
  refuse = true;
  let ran = false;
  await assert.rejects(c.write((tx) => { ran = true; tx.set('c', 3); }), /fenced: test/);
  assert.equal(ran, false, 'the write function never ran');
  assert.equal(c.head, 1);
  assert.equal(await c.apply({ serial: 2, at: 0, changes: [{ key: 'c', value: 3 }] }), true);
  c.guardWrites(undefined);
  const { serial } = await c.write((tx) => tx.set('d', 4));
  assert.equal(serial, 3, 'no serial was skipped by the refused write');
  await c.close();
});
