/**
 * Reads many keys in one statement: the keys asked for in the same turn of the event loop are
 * read together once that turn ends, and each caller gets its own key's value. The jobs of one
 * claim start in one turn, so their reads become one statement instead of one each. Nothing is
 * cached: a key asked for after a read started goes in the next read.
 */
export class CoalescedRead<Value> {
  private pending = new Map<string, PromiseWithResolversLike<Value | undefined>[]>();
  private scheduled = false;

  constructor(private readonly readAll: (keys: readonly string[]) => Promise<Map<string, Value>>) {}

  /** The value of `key`, or undefined when the read found none. */
  get(key: string): Promise<Value | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    this.readAll([...batch.keys()]).then(
      (values) => {
        for (const [key, waiting] of batch) for (const { resolve } of waiting) resolve(values.get(key));
      },
      (error: unknown) => {
        for (const waiting of batch.values()) for (const { reject } of waiting) reject(error);
      },
    );
  }
}

interface PromiseWithResolversLike<Value> {
  resolve(value: Value): void;
  reject(error: unknown): void;
}
