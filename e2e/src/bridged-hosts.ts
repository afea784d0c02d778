/**
 * Hosts for the multi-host e2e tests: each host a Linux network namespace with one address on a
 * shared /24, joined by a bridge in the root namespace through a veth pair. A host is taken off
 * the network by setting its root-side veth down (`cut`) and brought back (`heal`), which is what
 * a partition or a pulled cable looks like to the processes in it. Needs Linux, root and iproute2;
 * {@link BridgedHosts.build} says why not when it cannot, so the test skips with that reason.
 */
import { run } from './harness.js';

/** Runs `ip args`; throws with its output when it fails. */
export async function ip(args: readonly string[]): Promise<void> {
  const r = await run('ip', args, { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.describe()}`);
}

/** The built hosts (see module doc). */
export class BridgedHosts<H extends string> {
  private constructor(
    /** Each host's namespace name. */
    readonly ns: Readonly<Record<H, string>>,
    /** Each host's IPv4 address. */
    readonly addr: Readonly<Record<H, string>>,
    /** Each host's root-side veth. */
    private readonly veth: Readonly<Record<H, string>>,
    private readonly createdNs: string[],
    private readonly createdLinks: string[],
  ) {}

  /**
   * Builds a bridge at `<subnet>.1` and, for each host, a namespace `<id>-<i>` with `<subnet>.<octet>`
   * (`hosts`: name → last octet). `id` keeps the names per run and within 15 characters (a short
   * id such as `wh12345`). Resolves `{ skip }` with the reason when namespaces cannot be used here
   * (not Linux, not root, no iproute2, the /24 already in use, `ip netns add` refused); throws
   * when building fails midway, after removing what it made.
   */
  static async build<H extends string>(subnet: string, id: string, hosts: Readonly<Record<H, number>>): Promise<{ hosts: BridgedHosts<H> } | { skip: string }> {
    if (process.platform !== 'linux') return { skip: `network namespaces need Linux (this is ${process.platform})` };
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return { skip: 'network namespaces need root (run as uid 0)' };
    const probe = await run('ip', ['-V'], { timeoutMs: 5_000 });
    if (probe.code !== 0) return { skip: `the \`ip\` command (iproute2) is not available: ${probe.summary()}` };
    const addrs = await run('ip', ['-4', 'addr', 'show'], { timeoutMs: 5_000 });
    if (addrs.stdout.includes(`${subnet}.`)) {
      return { skip: `${subnet}.0/24 is already in use in the root namespace (another run, or leftovers): ${addrs.stdout.split('\n').filter((l) => l.includes(subnet)).join('; ')}` };
    }
    const names = Object.keys(hosts) as H[];
    const ns = {} as Record<H, string>;
    const addr = {} as Record<H, string>;
    const veth = {} as Record<H, string>;
    names.forEach((h, i) => {
      ns[h] = `${id}-${i}`;
      addr[h] = `${subnet}.${hosts[h]}`;
      veth[h] = `${id}v${i}`;
    });
    const built = new BridgedHosts(ns, addr, veth, [], []);
    const first = await run('ip', ['netns', 'add', ns[names[0]!]], { timeoutMs: 10_000 });
    if (first.code !== 0) return { skip: `\`ip netns add\` failed: ${first.stderr.trim() || first.summary()}` };
    built.createdNs.push(ns[names[0]!]);
    try {
      await built.wire(`${id}br`, subnet, names);
    } catch (err) {
      await built.teardown();
      throw err;
    }
    return { hosts: built };
  }

  /** Takes `host` off the network (its veth down). */
  cut(host: H): Promise<void> {
    return ip(['link', 'set', this.veth[host], 'down']);
  }

  /** Brings `host` back. */
  heal(host: H): Promise<void> {
    return ip(['link', 'set', this.veth[host], 'up']);
  }

  /** Removes the links and namespaces it made (never throws). */
  async teardown(): Promise<void> {
    for (const link of this.createdLinks.splice(0).reverse()) await run('ip', ['link', 'del', link], { timeoutMs: 10_000 });
    for (const ns of this.createdNs.splice(0).reverse()) await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 });
  }

  private async wire(bridge: string, subnet: string, names: readonly H[]): Promise<void> {
    await ip(['link', 'add', bridge, 'type', 'bridge']);
    this.createdLinks.push(bridge);
    await ip(['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    await ip(['link', 'set', bridge, 'up']);
    for (const h of names) {
      const ns = this.ns[h];
      if (!this.createdNs.includes(ns)) {
        await ip(['netns', 'add', ns]);
        this.createdNs.push(ns);
      }
      const outer = this.veth[h];
      const inner = `${outer}i`;
      await ip(['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
      this.createdLinks.push(outer);
      await ip(['link', 'set', inner, 'netns', ns]);
      await ip(['link', 'set', outer, 'master', bridge]);
      await ip(['link', 'set', outer, 'up']);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', ns, 'addr', 'add', `${this.addr[h]}/24`, 'dev', inner]);
      await ip(['-n', ns, 'link', 'set', inner, 'up']);
    }
  }
}
