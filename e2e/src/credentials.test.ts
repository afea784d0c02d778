// Credentials through a real master (issue 11, part 7): a login token authenticates only while the
// account and its password are the ones it was issued for (a password change, or a delete and
// re-create of the same name, revokes it); a burst of wrong passwords is answered 429 with
// Retry-After and a JSON message before argon2 runs, while another user from another address logs
// in; `wheelhouse export` and `wheelhouse backup` write their files 0600 (they hold argon2 hashes).
// Client addresses are given as X-Forwarded-For, as the cluster's proxy sets it (the master counts
// the last entry).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createUser, describeResponse } from './harness.js';
import { messageOf, TestRoot, type ApiClient, type WheelhouseProcess } from '@wheelhouse/testing';
import { wheelhouseCli } from './dump-tools.js';

const ROOT_PASSWORD = 'root-credentials-e2e';
const cluster = new TestRoot('credentials');
let master: WheelhouseProcess | undefined;
before(async () => {
  master = await cluster.startMaster('master', ROOT_PASSWORD);
}, { timeout: 60_000 });
after(() => cluster.cleanup());

const root = (): ApiClient => master!.api.as({ user: 'root', password: ROOT_PASSWORD });

/** Who `/+api` says a devpi-client with this token is ('' = anonymous). */
async function whoHolds(user: string, token: string): Promise<string> {
  const res = await master!.api.as({ user, token }).get('/+api');
  assert.equal(res.status, 200, describeResponse(res));
  return ((res.json as { result: { authstatus: [string, string] } }).result.authstatus)[1];
}

function login(user: string, password: string, address: string) {
  return master!.api.post('/+login', { user, password }, { headers: { 'X-Forwarded-For': `10.66.0.1, ${address}` } });
}

test('a token survives neither a password change nor a delete and re-create of the same name', { timeout: 60_000 }, cluster.guarded(async () => {
  await createUser(root(), 'tina', 'tina-pw-1');
  const first = await master!.api.login('tina', 'tina-pw-1');
  assert.equal(await whoHolds('tina', first), 'tina');
  const change = await master!.api.as({ user: 'tina', token: first }).patch('/tina', { password: 'tina-pw-2' });
  assert.equal(change.status, 200, describeResponse(change));
  assert.equal(await whoHolds('tina', first), '', 'the token from before the password change is revoked');
  const second = (change.json as { result: { password: string } }).result.password;
  assert.equal(await whoHolds('tina', second), 'tina', 'the token the change answered works');
  const gone = await root().delete('/tina');
  assert.equal(gone.status, 200, describeResponse(gone));
  await createUser(root(), 'tina', 'tina-pw-2');
  assert.equal(await whoHolds('tina', second), '', "the old account's token does not authenticate the new tina");
  assert.equal(await whoHolds('tina', await master!.api.login('tina', 'tina-pw-2')), 'tina');
}));

test('a burst of wrong passwords from 16 parallel clients gets 429 with Retry-After; another user from another address logs in', { timeout: 60_000 }, cluster.guarded(async () => {
  await createUser(root(), 'walt', 'walt-pw');
  await createUser(root(), 'vera', 'vera-pw');
  const attacker = '203.0.113.50';
  const started = performance.now();
  const clients = await Promise.all(Array.from({ length: 16 }, async (_, c) => {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await login('walt', `guess-${c}-${i}`, attacker));
    return answers;
  }));
  const burst = clients.flat();
  const seconds = (performance.now() - started) / 1000;
  const statuses = burst.map((r) => r.status);
  const checked = statuses.filter((s) => s === 401).length;
  const refused = burst.filter((r) => r.status === 429);
  assert.equal(checked + refused.length, burst.length, `only 401 and 429: ${statuses.join(' ')}`);
  console.log(`# wrong-password burst: ${burst.length} attempts from 16 clients in ${seconds.toFixed(2)} s, ${checked} checked (401), ${refused.length} refused (429)`);
  // 5 free failures and the one that starts the waits, then one more per elapsed wait (1 s, 2 s, 4 s …)
  const bound = 6 + Math.ceil(Math.log2(seconds + 1));
  assert.ok(checked <= bound, `${checked} of 48 guesses were checked in ${seconds.toFixed(2)} s (at most ${bound})`);
  for (const r of refused) {
    assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/, describeResponse(r));
    // a wait to serve, or (while earlier guesses for walt are still being checked) no room for another check
    assert.match(messageOf(r) ?? '', /too many (failed logins|logins in progress) .*retry in \d+ s/, describeResponse(r));
  }
  const rightButLocked = await login('walt', 'walt-pw', attacker);
  assert.equal(rightButLocked.status, 429, `the attacker's address waits even with the right password: ${describeResponse(rightButLocked)}`);
  const other = await login('vera', 'vera-pw', '198.51.100.20');
  assert.equal(other.status, 200, `another user from another address: ${describeResponse(other)}`);
}));

test('export and backup files are 0600 and their directories 0700', { timeout: 120_000 }, cluster.guarded(async () => {
  const dumps = { export: cluster.dir('export-out'), backup: cluster.dir('backup-out') };
  for (const [command, out] of Object.entries(dumps)) {
    const r = await wheelhouseCli([command, '--datadir', master!.datadir, out]);
    assert.equal(r.code, 0, r.describe());
    const wrong: string[] = [];
    const walk = (p: string): void => {
      const st = statSync(p);
      const mode = st.mode & 0o777;
      if (st.isDirectory()) {
        if (mode !== 0o700) wrong.push(`${p} ${mode.toString(8)}`);
        for (const name of readdirSync(p)) walk(join(p, name));
      } else if (mode !== 0o600) wrong.push(`${p} ${mode.toString(8)}`);
    };
    walk(out);
    assert.deepEqual(wrong, [], `${command}: not private`);
  }
}));
