import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeHeaderList, type NodeInfo } from './node-headers.js';

function node(): NodeInfo & { head: number; epochNow: number; isFenced: boolean; master: string } {
  const n = {
    role: 'master' as const,
    uuid: 'u1',
    head: 3,
    epochNow: 1,
    isFenced: false,
    master: 'm1',
    masterUuid: () => n.master,
    serial: () => n.head,
    epoch: () => n.epochNow,
    fenced: () => n.isFenced,
  };
  return n;
}

const value = (list: readonly string[], name: string): string | undefined => list[list.indexOf(name) + 1];

test('the node header list is one array while the node is unchanged, a new one after each change', () => {
  const n = node();
  const first = nodeHeaderList(n);
  assert.equal(nodeHeaderList(n), first);
  assert.equal(value(first, 'X-Devpi-Serial'), '3');
  n.head = 4;
  const second = nodeHeaderList(n);
  assert.notEqual(second, first);
  assert.equal(value(second, 'X-Devpi-Serial'), '4');
  assert.equal(value(first, 'X-Devpi-Serial'), '3', 'a list handed out is never changed');
  n.epochNow = 2;
  assert.equal(value(nodeHeaderList(n), 'X-Wheelhouse-Epoch'), '2');
  n.isFenced = true;
  assert.equal(value(nodeHeaderList(n), 'X-Wheelhouse-Role'), 'fenced');
  n.master = 'm2';
  assert.equal(value(nodeHeaderList(n), 'X-Devpi-Master-UUID'), 'm2');
  assert.equal(value(nodeHeaderList(n), 'X-Devpi-Primary-UUID'), 'm2');
});

test('two nodes never share a list', () => {
  const a = node();
  const b = { ...node(), uuid: 'u2' };
  assert.equal(value(nodeHeaderList(a), 'X-Devpi-UUID'), 'u1');
  assert.equal(value(nodeHeaderList(b), 'X-Devpi-UUID'), 'u2');
});
