import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CRASH_LIMIT, CRASH_WINDOW_MS, CrashLoop, LastLine } from './local-cluster.js';

describe('cluster crash loop', () => {
  it(`gives up at the ${CRASH_LIMIT}rd crash within ${CRASH_WINDOW_MS} ms, not before`, () => {
    const loop = new CrashLoop();
    assert.equal(loop.crashed(0), false);
    assert.equal(loop.crashed(1_000), false);
    assert.equal(loop.crashed(2_000), true);
  });

  it('forgets crashes older than the window (a node that crashes now and then is restarted forever)', () => {
    const loop = new CrashLoop();
    for (let t = 0; t < 10 * CRASH_WINDOW_MS; t += CRASH_WINDOW_MS / 2 + 1) assert.equal(loop.crashed(t), false);
  });

  it("keeps a node's last stderr line across chunks", () => {
    const line = new LastLine();
    line.push('starting\nwheelhouse: data directory /d is in ');
    line.push('use by process 42\n\n');
    assert.equal(line.value, 'wheelhouse: data directory /d is in use by process 42');
  });
});
