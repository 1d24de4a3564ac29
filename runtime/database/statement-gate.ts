/**
 * Lets at most `size` of Koban's statements and transactions run at once on a postgres.js client
 * of `size` connections. With fewer in flight than connections, the driver always finds an idle
 * connection for the next statement, so it never pipelines one behind another on a busy
 * connection. A pooler in transaction mode loses such a statement: PgBouncer hands the server
 * connection back at the first statement's ReadyForQuery while the server is still answering
 * the second (the Parse, Describe and Flush that postgres.js sends first for a statement with
 * parameters and no prepare), so its answer goes nowhere and the query waits forever
 * (pgbouncer/pgbouncer#759; Supavisor drops pipelined statements likewise). postgres.js 3.4
 * offers no way to turn pipelining off that keeps `begin` working (`max_pipeline: 0` breaks it).
 */
export class StatementGate {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Runs `work` once fewer than `size` others run, in the order asked. */
  async run<T>(work: () => PromiseLike<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The driver has put the connection back among the idle ones before the promise settles.
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
