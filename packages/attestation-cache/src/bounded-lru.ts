import QuickLRU from 'quick-lru';

/**
 * A least-recently-used map that never contains more than `maxSize` keys, built on
 * quick-lru.
 *
 * quick-lru keeps two generations of up to `maxSize` items each, so it can
 * contain up to twice its `maxSize` before it drops a whole generation at once. Here the
 * owner makes room with {@link BoundedLru.oldest} and {@link BoundedLru.delete}
 * before each {@link BoundedLru.insert}, so at most `maxSize` keys exist. With
 * that, whenever quick-lru fills its recent generation every key is in it, the
 * old generation is empty, and quick-lru itself never evicts a live key.
 * `onUnexpectedEviction` still receives anything quick-lru evicts, so no entry
 * can leave without its owner hearing of it.
 */
export class BoundedLru<V> {
  readonly maxSize: number;
  readonly #lru: QuickLRU<string, V>;
  #size = 0;

  constructor(maxSize: number, onUnexpectedEviction: (key: string, value: V) => void) {
    this.maxSize = maxSize;
    this.#lru = new QuickLRU<string, V>({
      maxSize,
      onEviction: (key, value) => {
        this.#size -= 1;
        onUnexpectedEviction(key, value);
      },
    });
  }

  get size(): number {
    return this.#size;
  }

  /** Returns the value for `key` and marks it most recently used. */
  get(key: string): V | undefined {
    return this.#lru.get(key);
  }

  /** Returns the value for `key` without changing its recency. */
  peek(key: string): V | undefined {
    return this.#lru.peek(key);
  }

  /**
   * Adds a key that is not present, as the most recently used.
   * @throws {Error} when the key is present or the map is full: both are bugs in the owner.
   */
  insert(key: string, value: V): void {
    if (this.#lru.has(key)) {
      throw new Error(`BoundedLru.insert: key ${key} is already present; delete it first.`);
    }
    if (this.#size >= this.maxSize) {
      throw new Error(`BoundedLru.insert: the map is full (${this.maxSize}); make room first.`);
    }

    // A fresh key goes only into quick-lru's recent generation, so no stale
    // duplicate of it can linger in the old one.
    this.#lru.set(key, value);
    this.#size += 1;
  }

  delete(key: string): boolean {
    const deleted = this.#lru.delete(key);
    if (deleted) {
      this.#size -= 1;
    }

    return deleted;
  }

  /**
   * Returns the entry to evict first, or undefined when empty. The order
   * approximates least recently used: quick-lru moves an entry forward when it is
   * read from its old generation, but not when it is read again while already in
   * the recent one, so recent reads within one generation keep insertion order.
   */
  oldest(): [string, V] | undefined {
    const next = this.#lru.entriesAscending().next();
    return next.done ? undefined : next.value;
  }

  /** Returns a snapshot of all entries, least recently used first. */
  entries(): [string, V][] {
    return [...this.#lru.entriesAscending()];
  }

  clear(): void {
    this.#lru.clear();
    this.#size = 0;
  }
}
