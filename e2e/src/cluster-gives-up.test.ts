// `wheelhouse cluster` stops restarting a node that cannot start (issue 11, part 8): with the
// proxy's port taken, the proxy exits with one line (no stack trace) each time, and after 3 crashes
// within 30 s the cluster gives up with that line as the reason, stops the master and replica it
// started, and exits with status 1 — instead of restarting forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { TestRoot, freePort, wheelhouseBin } from '@wheelhouse/testing';

const cluster = new TestRoot('cluster-gives-up');

test('cluster gives up after 3 fast crashes of the proxy (port in use) with the reason', { timeout: 300_000 }, cluster.guarded(async (t) => {
  const port = await freePort();
  // a TCP listener that is not HTTP: the proxy cannot bind, and readiness checks get no answer
  const blocker: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  try {
    const child = spawn(process.execPath, [wheelhouseBin, 'cluster', '--datadir', cluster.dir('data'), '--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    t.diagnostic(stderr.trim().split('\n').slice(-4).join(' | '));
    assert.equal(code, 1, `cluster exit status; stderr:\n${stderr}`);
    const reason = `wheelhouse: cannot listen on 127.0.0.1:${port}: the port is in use by another process`;
    assert.ok(stderr.includes(`cluster: giving up: proxy crashed 3 times in a row within 30 s of starting; last error: ${reason}`), stderr);
    assert.doesNotMatch(stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
    assert.doesNotMatch(stderr, /EADDRINUSE/, 'no raw EADDRINUSE error');
  } finally {
    blocker.close();
  }
}));
