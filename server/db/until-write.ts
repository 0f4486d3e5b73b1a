/**
 * Values worked out since the database last changed, in this process or another: the map is replaced
 * by an empty one whenever the write mark (databaseWriteMark) moves, and emptied when it holds `max`.
 * A caller takes the map once, before its awaits, and stores into that one: a value read before a write
 * then lands in a map that is already dropped, never under the newer mark.
 */
export class UntilWrite<K, V> {
  private mark = '';
  private values = new Map<K, V>();

  constructor(
    private readonly writeMark: () => string,
    private readonly max: number,
  ) {}

  /** The values kept under the database's current write mark. */
  current(): BoundedValues<K, V> {
    const mark = this.writeMark();
    if (mark !== this.mark) {
      this.mark = mark;
      this.values = new Map();
    }
    const values = this.values;
    const max = this.max;
    return {
      get: (key) => values.get(key),
      set: (key, value) => {
        if (values.size >= max) values.clear();
        values.set(key, value);
      },
      delete: (key) => values.delete(key),
    };
  }
}

/** One write mark's values. */
export interface BoundedValues<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): void;
}
