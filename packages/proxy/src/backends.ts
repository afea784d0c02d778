/**
 * The backends behind the proxy and the choice of one for a request. Plain state and decisions (no
 * I/O), so routing is unit-tested without sockets.
 *
 * - Reads go to usable backends (up, not draining, not ejected) that may serve the read under
 *   read-your-writes (`mayServeRead`), replicas first, then fewest outstanding requests; the
 *   master is the fallback (it always has the newest serial).
 * - Writes go to the master only: the backend that announces itself `master` (`X-Wheelhouse-Role`)
 *   in the highest epoch seen from any backend (`X-Wheelhouse-Epoch`), else the configured master
 *   until some backend announced otherwise. A backend in a lower epoch, or `fenced`, never gets a
 *   write (docs/operations.md, "Promotion and rejoin").
 * - `HealthPolicy.maxFails` consecutive failures eject a backend for `ejectMs`, doubling with each
 *   ejection up to `maxEjectMs`; the last backend able to serve reads is never ejected.
 * - Active checks take a backend down after `fall` failed checks and up after `rise` good ones.
 */
import type { EjectionVerdict } from './ejection-rule.js';
import type { HealthPolicy } from './policy.js';
import { advanceMark, advanceWriteMark, mayServeRead, NO_SERIAL, type SerialMark } from './read-your-writes.js';

/** No backend excluded (shared, never written). */
const NO_BACKENDS: ReadonlySet<Backend> = new Set();

/** Whether a request method is a read (routed to any backend) rather than a write (master only). */
export function isReadMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** A backend node. */
export class Backend {
  /** Up according to active checks (starts optimistic so a fresh proxy serves at once). */
  up = true;
  /** Consecutive check results, for rise/fall. */
  okStreak = 0;
  failStreak = 0;
  /** Consecutive request failures, for passive ejection. */
  requestFails = 0;
  ejections = 0;
  /** ms since epoch until which the backend is ejected. */
  ejectedUntil = 0;
  /** Drained backends get no new requests; in-flight ones finish. */
  draining = false;
  /** Requests in flight. */
  outstanding = 0;
  /** Highest serial seen from this backend (checks and responses), -1 unknown. */
  serial = -1;
  /** The master store UUID that serial counts in ('' unknown): serials of different masters do not compare. */
  masterUuid = '';
  /** Epoch the backend announced last (`X-Wheelhouse-Epoch`), 0 unknown. */
  epoch = 0;
  /** Role the backend announced last (`X-Wheelhouse-Role`), undefined before any answer with it. */
  announcedRole: 'master' | 'replica' | 'fenced' | undefined;
  /** Readiness reason when the last check said not ready. */
  lastError: string | undefined;
  /** ms since epoch of the last check answer. */
  lastCheck = 0;
  /** Requests sent to this backend since start. */
  requests = 0;
  /**
   * Aborts of in-flight requests (reads and writes) whose answer has not started yet: cut when the
   * backend goes down — a read is then retried, a write answered 504 (its outcome unknown).
   */
  readonly pending = new Set<{ abort(reason?: Error): void }>();

  constructor(
    /** Short name for status and admin URLs (`master`, `replica1`…). */
    readonly name: string,
    /** Base URL without trailing slash. */
    readonly url: string,
    readonly role: 'master' | 'replica',
  ) {}

  /**
   * Takes a serial seen on a response or check, with the master UUID it counts in: a new master
   * (e.g. after an import) restarts the count (`advanceMark`).
   */
  noteSerial(serial: number, masterUuid = ''): void {
    // the common answer: no newer serial in the same count — nothing to change, nothing to allocate
    if (serial <= this.serial && (masterUuid === '' || masterUuid === this.masterUuid)) return;
    const mark = advanceMark({ serial: this.serial, masterUuid: this.masterUuid }, serial, masterUuid);
    this.serial = mark.serial;
    this.masterUuid = mark.masterUuid;
  }

  /** Takes the epoch and role an answer announced (absent headers change nothing). */
  noteEpoch(epoch: number | undefined, role: string | undefined): void {
    if (epoch !== undefined) this.epoch = epoch;
    if (role === 'master' || role === 'replica' || role === 'fenced') this.announcedRole = role;
  }

  /** Usable for new requests at `now` (ms since epoch). */
  usable(now: number): boolean {
    return this.up && !this.draining && this.ejectedUntil <= now;
  }
}

/** Decides where requests go (see module doc). */
export class BackendPool {
  /** Highest serial a write answer carried, per master UUID: what reads must see (read-your-writes). */
  writeMark: SerialMark = NO_SERIAL;

  constructor(
    readonly backends: Backend[],
    private readonly policy: HealthPolicy,
  ) {}

  get master(): Backend | undefined {
    return this.backends.find((b) => b.role === 'master');
  }

  /** The highest epoch any backend announced (0: none did); sent to every backend as `X-Wheelhouse-Epoch`. */
  get highestEpoch(): number {
    let max = 0;
    for (const b of this.backends) max = Math.max(max, b.epoch);
    return max;
  }

  /**
   * The backend writes go to, usable or not: an announced master in the highest epoch seen, else
   * the configured master unless it announced a lower epoch or another role; undefined when none qualifies.
   */
  get leader(): Backend | undefined {
    const top = this.highestEpoch;
    const announced = this.backends.filter((b) => b.announcedRole === 'master' && b.epoch >= top);
    const up = announced.find((b) => b.up);
    if (up ?? announced[0]) return up ?? announced[0];
    const m = this.master;
    if (m && (m.announcedRole === undefined || (m.announcedRole === 'master' && m.epoch >= top))) return m;
    return undefined;
  }

  /** Automatic failover's view (leader key, watch errors), shown as `/+status` `failover`; set by the CLI with `--etcd`. */
  failover: (() => Record<string, unknown>) | undefined;

  /**
   * Automatic failover: etcd's leader key names `url` the master of `epoch`. The backend at that
   * URL counts as announcing it at once (health checks and answers confirm or correct it), so
   * writes go there without waiting for a check. Returns that backend, or undefined when no
   * backend has that URL.
   */
  noteLeader(url: string, epoch: number): Backend | undefined {
    const b = this.backends.find((x) => x.url === url.replace(/\/+$/, ''));
    if (b && epoch >= b.epoch) b.noteEpoch(epoch, 'master');
    return b;
  }

  /** The backend called `name` (`master`, `replica1`…), if any. */
  byName(name: string): Backend | undefined {
    return this.backends.find((b) => b.name === name);
  }

  /**
   * The backend for a read that must see `required` (default: nothing), skipping `exclude`;
   * undefined when none is usable at `now` (ms since epoch).
   */
  pickRead(required: SerialMark = NO_SERIAL, exclude: ReadonlySet<Backend> = NO_BACKENDS, now = Date.now()): Backend | undefined {
    let best: Backend | undefined;
    for (const b of this.backends) {
      if (exclude.has(b) || !b.usable(now) || !mayServeRead(b, required)) continue;
      if (!best || better(b, best)) best = b;
    }
    return best;
  }

  /** The leader (see {@link leader}) when usable. */
  pickWrite(now = Date.now()): Backend | undefined {
    const m = this.leader;
    return m && m.usable(now) ? m : undefined;
  }

  /** Raises the write mark from a write's answer (`advanceWriteMark`). */
  noteWriteAnswer(status: number, seen: { serial: number; masterUuid: string }): void {
    this.writeMark = advanceWriteMark(this.writeMark, status, seen);
  }

  /** Applies the ejection rule's verdict on one attempt at `b`. */
  noteVerdict(b: Backend, verdict: EjectionVerdict, now = Date.now()): void {
    if (verdict === 'down') this.markDown(b);
    else if (verdict === 'failure') this.noteFailure(b, now);
    else if (verdict === 'success') this.noteSuccess(b);
  }

  /** Records a failed request; may eject the backend. Returns true if ejected. */
  noteFailure(b: Backend, now = Date.now()): boolean {
    b.requestFails++;
    if (b.requestFails < this.policy.maxFails || b.ejectedUntil > now) return false;
    // never eject the last backend able to serve reads
    const others = this.backends.filter((o) => o !== b && o.usable(now));
    if (others.length === 0) return false;
    b.ejections++;
    b.ejectedUntil = now + Math.min(this.policy.ejectMs * 2 ** (b.ejections - 1), this.policy.maxEjectMs);
    b.requestFails = 0;
    return true;
  }

  /** Records a successful request. */
  noteSuccess(b: Backend): void {
    b.requestFails = 0;
  }

  /** Applies an active check result with rise/fall counting. Returns the new `up`. */
  noteCheck(b: Backend, ok: boolean, now = Date.now()): boolean {
    b.lastCheck = now;
    if (ok) {
      b.okStreak++;
      b.failStreak = 0;
      if (!b.up && b.okStreak >= this.policy.rise) {
        b.up = true;
        b.ejectedUntil = 0;
        b.ejections = 0;
      }
    } else {
      b.failStreak++;
      b.okStreak = 0;
      if (b.up && b.failStreak >= this.policy.fall) this.markDown(b);
    }
    return b.up;
  }

  /**
   * Takes a backend out of rotation at once (failed checks, or a refused connection) and cancels
   * its in-flight requests that have not answered yet, so reads are retried elsewhere and writes
   * answered 504 instead of waiting for a host that vanished or hung (SIGSTOP).
   */
  markDown(b: Backend): void {
    b.up = false;
    b.okStreak = 0;
    for (const ac of b.pending) ac.abort(new Error(`backend ${b.name} went down`));
    b.pending.clear();
  }
}

/** Replicas before the master, then fewer outstanding requests. */
function better(a: Backend, b: Backend): boolean {
  if (a.role !== b.role) return a.role === 'replica';
  return a.outstanding < b.outstanding;
}
