/**
 * Test fixture for crash.test.ts (not part of the public API): opens (creating) the store at
 * argv[2] and commits in a tight loop until killed. Each commit sets `counter` to its serial and
 * adds `item/<serial>`; after each commit is durable it prints the serial on its own line.
 */
import { Changelog } from './changelog.js';

const location = process.argv[2];
if (location === undefined) {
  process.stderr.write('usage: crash-writer <location>\n');
  process.exit(2);
}
const store = await Changelog.open({ location, create: true });
for (;;) {
  const { serial } = await store.write((tx) => {
    tx.set('counter', tx.serial);
    tx.set(`item/${tx.serial}`, { serial: tx.serial, at: tx.at });
  });
  process.stdout.write(`${serial}\n`);
}
