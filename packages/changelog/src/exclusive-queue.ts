/** A promise-chain mutex: tasks run one at a time, in the order they were queued. */
export class ExclusiveQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Run task once every earlier task has settled; resolves/rejects with the task's outcome. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
