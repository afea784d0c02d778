import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addSettingFlags, givenFlags, type GivenFlags } from './setting-flags.js';
import { loadSettings } from './load-settings.js';
import { SettingsError } from './settings-error.js';
import type { Role } from './role-schemas.js';

/** Parses `argv` as `wheelhouse <role> …` in-process and returns what the command was given. */
async function parse(role: Role, argv: string[]): Promise<GivenFlags> {
  let given: GivenFlags | undefined;
  const program = new Command('wheelhouse').exitOverride();
  addSettingFlags(program.command(role), role).action((_opts: unknown, cmd: Command) => {
    given = givenFlags(cmd);
  });
  await program.parseAsync([role, ...argv], { from: 'user' });
  return given!;
}

function helpOf(role: Role): string {
  const program = new Command('wheelhouse');
  return addSettingFlags(program.command(role), role).helpInformation();
}

test('only flags given on the command line are taken (no commander defaults), by setting key', async () => {
  assert.deepEqual(await parse('master', ['--datadir', 'D', '--port=3142', '--offline']), { flags: { datadir: 'D', port: '3142', offline: true }, unknown: [] });
  assert.deepEqual((await parse('master', ['--datadir', 'D', '--no-sync-commits'])).flags, { datadir: 'D', 'sync-commits': false });
  assert.deepEqual(await parse('proxy', ['--master', 'http://m', '--replica', 'http://a', '--replica', 'http://b', '--config', 'p.json']), {
    flags: { master: 'http://m', replica: ['http://a', 'http://b'] },
    config: 'p.json',
    unknown: [],
  });
});

test('a replica given --max-file-bytes, an unknown flag and a bad port: every problem at once', async () => {
  const given = await parse('replica', ['--datadir', 'R', '--max-file-bytes', '5', '--bogus', 'v', '--port', '70000', '--master-url', 'http://m', '--secret-file', 'S']);
  assert.deepEqual(given.unknown, ['--bogus', 'v']);
  assert.throws(
    () => loadSettings('replica', { given }),
    (err: unknown) => {
      assert.ok(err instanceof SettingsError);
      assert.deepEqual(err.problems, ['unknown flag --bogus', '--max-file-bytes does not apply to a replica', '--port must be <= 65535, not 70000']);
      return true;
    },
  );
});

test('a master given --master-url is refused', async () => {
  assert.throws(() => loadSettings('master', { given: { flags: {}, unknown: [] } }), /--datadir is required/);
  const given = await parse('master', ['--datadir', 'D', '--master-url', 'http://m']);
  assert.throws(() => loadSettings('master', { given }), /--master-url does not apply to a master/);
});

test("help lists a role's own flags with their defaults and hides the other roles'", () => {
  const replica = helpOf('replica');
  assert.match(replica, /--master-url <url>/);
  assert.match(replica, /--port <port> +TCP port, 0 for any free one \(default 3142\)/);
  assert.doesNotMatch(replica, /--max-file-bytes|--offline|--replica /);
  const master = helpOf('master');
  assert.match(master, /--max-file-bytes <size>[^-]*\(default 1GiB\)/);
  assert.match(master, /--no-sync-commits +do not fsync every commit/);
  assert.doesNotMatch(master, /--master-url|--follow-new-master/);
  assert.match(helpOf('cluster'), /--datadir <dir> .*\(default\s+\.wheelhouse\)/s);
});
