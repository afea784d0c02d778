/**
 * The in-memory view of the current state: every key with its decoded, deep-frozen value, and a
 * parent index so `children(parent)` does not scan all keys. Reads never touch the disk; the
 * changelog updates this view only after a batch has been written.
 */

/** Parent of a key: the key up to its last '/', or '' for a key without '/'. */
export function parentOf(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

interface Siblings {
  keys: Set<string>;
  /** Sorted copy of keys, built on demand and dropped on change. */
  sorted: string[] | undefined;
}

/** Current values by key plus the parent index. Values must already be deep-frozen plain data. */
export class CurrentState {
  private readonly values = new Map<string, unknown>();
  private readonly parents = new Map<string, Siblings>();

  /** Number of keys. */
  get size(): number {
    return this.values.size;
  }

  /** Whether the key has a value. */
  has(key: string): boolean {
    return this.values.has(key);
  }

  /** The (frozen) value of key, or undefined. */
  get(key: string): unknown {
    return this.values.get(key);
  }

  /** Sorted keys whose parent is `parent` (a fresh array the caller may modify). */
  children(parent: string): string[] {
    const siblings = this.parents.get(parent);
    if (siblings === undefined) return [];
    siblings.sorted ??= [...siblings.keys].sort();
    return siblings.sorted.slice();
  }

  /** Every key, sorted. */
  sortedKeys(): string[] {
    return [...this.values.keys()].sort();
  }

  /** Set key to a frozen value. */
  set(key: string, value: unknown): void {
    if (!this.values.has(key)) {
      const parent = parentOf(key);
      let siblings = this.parents.get(parent);
      if (siblings === undefined) {
        siblings = { keys: new Set(), sorted: undefined };
        this.parents.set(parent, siblings);
      }
      siblings.keys.add(key);
      siblings.sorted = undefined;
    }
    this.values.set(key, value);
  }

  /** Remove key (no-op when absent). */
  delete(key: string): void {
    if (!this.values.delete(key)) return;
    const parent = parentOf(key);
    const siblings = this.parents.get(parent);
    if (siblings === undefined) return;
    siblings.keys.delete(key);
    siblings.sorted = undefined;
    if (siblings.keys.size === 0) this.parents.delete(parent);
  }

  /** All entries, in no particular order. */
  entries(): IterableIterator<[string, unknown]> {
    return this.values.entries();
  }
}
