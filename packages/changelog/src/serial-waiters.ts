/** Pending `waitForSerial` calls, resolved from the commit path (no polling). */

interface Waiter {
  serial: number;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

/** Set of callers waiting for the head to reach a serial. */
export class SerialWaiters {
  private waiters = new Set<Waiter>();

  /** Resolves true once `notify(head)` is called with head >= serial, false after timeoutMs (ms). */
  wait(serial: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        serial,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, Math.max(0, timeoutMs)),
      };
      this.waiters.add(waiter);
    });
  }

  /** The head moved to `head`: release every waiter for a serial <= head. */
  notify(head: number): void {
    for (const waiter of this.waiters) {
      if (waiter.serial <= head) this.release(waiter, true);
    }
  }

  /** Release every waiter with false (the store is closing). */
  cancelAll(): void {
    for (const waiter of this.waiters) this.release(waiter, false);
  }

  private release(waiter: Waiter, reached: boolean): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    waiter.resolve(reached);
  }
}
