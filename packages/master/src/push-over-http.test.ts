/** devpi-client's PUSH method on a running master (the rewrite itself: packages/http/src/push-method.test.ts). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWheel, RawConnection, startMaster, uploadForm, userWithIndex, type TestMaster } from './master-app.test-helpers.js';

let m: TestMaster;
let auth: Record<string, string>;

before(async () => {
  m = await startMaster();
  auth = await userWithIndex(m, 'alice', 'dev');
  const ix = await fetch(`${m.url}/alice/prod`, { method: 'PUT', headers: auth, body: '{}' });
  assert.equal(ix.status, 200);
  for (const v of ['1.0', '2.0']) {
    const w = makeWheel('pushpkg', v);
    const up = await fetch(`${m.url}/alice/dev/`, { method: 'POST', headers: auth, body: uploadForm('pushpkg', v, w.filename, w.bytes) });
    assert.equal(up.status, 200, await up.text());
  }
});
after(() => m.close());

function pushRequest(path: string, body: unknown, headers: Record<string, string> = auth): string {
  const json = JSON.stringify(body);
  const lines = [`PUSH ${path} HTTP/1.1`, `Host: 127.0.0.1:${m.port}`, 'Accept: application/json', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(json)}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n${json}`;
}

const apiRequest = (): string => `GET /+api HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nAccept: application/json\r\n\r\n`;

async function expectApi(conn: RawConnection): Promise<void> {
  const res = await conn.read();
  assert.equal(res.status, 200);
  const body = JSON.parse(res.body.toString()) as { type: string; result: { authstatus: unknown } };
  assert.equal(body.type, 'apiconfig');
}

const targetLinks = async (project: string, version: string): Promise<string[]> => {
  const res = await fetch(`${m.url}/alice/prod/${project}/${version}`, { headers: { Accept: 'application/json' } });
  if (res.status !== 200) return [];
  const body = (await res.json()) as { result: { '+links': Array<{ href: string }> } };
  return body.result['+links'].map((l) => l.href);
};

test('PUSH with a JSON body gets the push actionlog, and the keep-alive connection serves a GET after it', async () => {
  const conn = await RawConnection.open(m.port);
  try {
    await conn.write(pushRequest('/alice/dev', { name: 'pushpkg', version: '1.0', targetindex: 'alice/prod' }));
    const res = await conn.read();
    assert.equal(res.status, 200, res.body.toString());
    assert.match(res.headers['content-type'] ?? '', /application\/json/);
    const body = JSON.parse(res.body.toString()) as { type: string; result: unknown[][] };
    assert.equal(body.type, 'actionlog');
    assert.deepEqual(body.result[0], [200, 'register', 'pushpkg', '1.0', '->', 'alice/prod']);
    assert.ok(body.result.some((e) => e[1] === 'store_releasefile'));
    assert.ok(Number(res.headers['x-devpi-serial']) > 0);
    await conn.write(apiRequest());
    await expectApi(conn);
    assert.equal(conn.closed, false);
  } finally {
    conn.close();
  }
  assert.equal((await targetLinks('pushpkg', '1.0')).length, 1);
});

test('PUSH naming an unknown version gets a 404 JSON message, and the connection still works', async () => {
  const conn = await RawConnection.open(m.port);
  try {
    await conn.write(pushRequest('/alice/dev/', { name: 'pushpkg', version: '9.9', targetindex: 'alice/prod' }));
    const res = await conn.read();
    assert.equal(res.status, 404);
    const body = JSON.parse(res.body.toString()) as { message: string };
    assert.match(body.message, /pushpkg 9\.9/);
    await conn.write(apiRequest());
    await expectApi(conn);
  } finally {
    conn.close();
  }
});

test('PUSH without credentials → 401 JSON', async () => {
  const conn = await RawConnection.open(m.port);
  try {
    await conn.write(pushRequest('/alice/dev', { name: 'pushpkg', version: '2.0', targetindex: 'alice/prod' }, {}));
    const res = await conn.read();
    assert.equal(res.status, 401);
    assert.match(JSON.parse(res.body.toString()).message, /cannot upload/);
  } finally {
    conn.close();
  }
  assert.deepEqual(await targetLinks('pushpkg', '2.0'), []);
});

test('PUSH after a GET on the same keep-alive connection (devpi-client reuses its session)', async () => {
  const conn = await RawConnection.open(m.port);
  try {
    await conn.write(apiRequest());
    await expectApi(conn);
    await conn.write(pushRequest('/alice/dev', { name: 'pushpkg', version: '2.0', targetindex: 'alice/prod' }));
    const res = await conn.read();
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(JSON.parse(res.body.toString()).type, 'actionlog');
    await conn.write(apiRequest());
    await expectApi(conn);
  } finally {
    conn.close();
  }
});

test('PUSH whose body arrives in a later TCP write than its headers', async () => {
  const conn = await RawConnection.open(m.port);
  try {
    const req = pushRequest('/alice/dev', { name: 'pushpkg', version: '1.0', targetindex: 'alice/prod', no_docs: true });
    const split = req.indexOf('\r\n\r\n') + 4;
    await conn.write(req.slice(0, split));
    await new Promise((r) => setTimeout(r, 50));
    await conn.write(req.slice(split));
    const res = await conn.read();
    assert.equal(res.status, 200, res.body.toString());
    await conn.write(apiRequest());
    await expectApi(conn);
  } finally {
    conn.close();
  }
});

test('two PUSH requests in a row on one connection', async () => {
  const conn = await RawConnection.open(m.port);
  try {
    for (const v of ['1.0', '2.0']) {
      await conn.write(pushRequest('/alice/dev', { name: 'pushpkg', version: v, targetindex: 'alice/prod' }));
      const res = await conn.read();
      assert.equal(res.status, 200, `${v}: ${res.body.toString()}`);
    }
  } finally {
    conn.close();
  }
});

test('another unknown method (BREW) gets 400 Bad Request and the connection is closed', async () => {
  const conn = await RawConnection.open(m.port);
  try {
    await conn.write(`BREW /alice/dev HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nContent-Length: 0\r\n\r\n`);
    const res = await conn.read();
    assert.equal(res.status, 400);
    assert.equal(await conn.waitClosed(), true);
  } finally {
    conn.close();
  }
  // the server is fine afterwards
  const api = await fetch(`${m.url}/+api`, { headers: { Accept: 'application/json' } });
  assert.equal(api.status, 200);
});

test(
  'a GET and a PUSH pipelined in one write are both answered, in order',
  async () => {
    const conn = await RawConnection.open(m.port);
    try {
      await conn.write(apiRequest() + pushRequest('/alice/dev', { name: 'pushpkg', version: '1.0', targetindex: 'alice/prod' }));
      await expectApi(conn);
      const res = await conn.read();
      assert.equal(res.status, 200, res.body.toString());
    } finally {
      conn.close();
    }
  },
);

test(
  'an idle keep-alive connection is closed after keepAliveTimeout, also after a PUSH',
  async () => {
    const short = await startMaster((server) => {
      server.keepAliveTimeout = 200;
      (server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = 100;
    });
    try {
      const a = await userWithIndex(short, 'alice', 'dev');
      // control: a plain keep-alive connection is closed when idle
      const plain = await RawConnection.open(short.port);
      await plain.write(apiRequest());
      await expectApi(plain);
      assert.equal(await plain.waitClosed(3000), true, 'a plain idle connection is closed');
      plain.close();
      const conn = await RawConnection.open(short.port);
      try {
        await conn.write(pushRequest('/alice/dev', { name: 'nothing', version: '1.0', targetindex: 'alice/dev' }, a));
        assert.equal((await conn.read()).status, 404);
        assert.equal(await conn.waitClosed(2000), true, 'the idle connection after PUSH is closed');
      } finally {
        conn.close();
      }
    } finally {
      await short.close();
    }
  },
);
