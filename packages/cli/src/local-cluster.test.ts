import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CRASH_LIMIT, CRASH_WINDOW_MS, CrashLoop, LastLine } from './local-cluster.js';

describe('cluster crash loop', () => {
  it(`gives up at the ${CRASH_LIMIT}rd crash in a row within ${CRASH_WINDOW_MS} ms of its start, however slow the starts`, () => {
    const loop = new CrashLoop();
    assert.equal(loop.crashed(0, 20_000), false);
    assert.equal(loop.crashed(21_000, 45_000), false);
    assert.equal(loop.crashed(46_000, 70_000), true);
  });

  it('a crash after a long run starts the count afresh (a node that crashes now and then is restarted forever)', () => {
    const loop = new CrashLoop();
    assert.equal(loop.crashed(0, 1_000), false);
    assert.equal(loop.crashed(2_000, 3_000), false);
    assert.equal(loop.crashed(4_000, 4_000 + CRASH_WINDOW_MS), false);
    assert.equal(loop.crashed(0, 1_000), false);
    assert.equal(loop.crashed(0, 1_000), false);
    assert.equal(loop.crashed(0, 1_000), true);
  });

  it("keeps a node's last stderr line across chunks", () => {
    const line = new LastLine();
    line.push('starting\nwheelhouse: data directory /d is in ');
    line.push('use by process 42\n\n');
    assert.equal(line.value, 'wheelhouse: data directory /d is in use by process 42');
  });
});
