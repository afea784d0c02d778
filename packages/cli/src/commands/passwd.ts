/** `wheelhouse passwd`: sets a user's password in a stopped master's data directory. */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { Changelog, NotInitialisedError } from '@wheelhouse/changelog';
import { hashPassword, modifyUser } from '@wheelhouse/core';
import { datadirPaths } from '@wheelhouse/master';
import { fail } from './exit.js';

async function promptPassword(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  try {
    return await rl.question(prompt);
  } finally {
    rl.close();
  }
}

/** Adds the `passwd` command to `program`. */
export function addPasswdCommand(program: Command): void {
  program
    .command('passwd')
    .description("set a user's password in a stopped master's data directory")
    .requiredOption('--datadir <dir>', 'data directory')
    .argument('<user>', 'user name')
    .option('--password <password>', 'new password (prompted when absent)')
    .action(async (user: string, opts: { datadir: string; password?: string }) => {
      let changelog: Changelog;
      try {
        changelog = await Changelog.open({ location: datadirPaths(opts.datadir).db });
      } catch (err) {
        if (err instanceof NotInitialisedError) fail(`${opts.datadir} is not a Wheelhouse data directory`);
        fail(`cannot open ${opts.datadir} (is the master running? stop it, or change the password with PATCH /${user}): ${(err as Error).message}`);
      }
      try {
        const password = opts.password ?? (await promptPassword(`new password for ${user}: `));
        const pwhash = await hashPassword(password);
        await changelog.write((tx) => modifyUser(tx, user, { pwhash }));
        process.stdout.write(`password of ${user} changed\n`);
      } catch (err) {
        fail((err as Error).message);
      } finally {
        await changelog.close();
      }
    });
}
