import type { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import { KobanDatabaseError } from '../../sdk/errors.js';
import { connectTimeoutError, explainConnectionError } from './connection-errors.js';
import type { DrizzleDatabase, Executor } from './executor.js';
import { snapshotMigrated } from './pglite-snapshot.js';
import type { GuardedTransactions } from './postgres-workarounds.js';
import type { StatementGate } from './statement-gate.js';

export type { DrizzleDatabase, Executor } from './executor.js';

/** The client under a Database: postgres.js (with Koban's guarded transactions when Koban opened it) or PGlite. */
export type Driver =
  | {
      readonly kind: 'postgres';
      readonly client: postgres.Sql;
      readonly guarded?: GuardedTransactions;
      /** Whether Koban's statements are named prepared statements; not through a pooler in transaction mode. Default true. */
      readonly prepare?: boolean;
      /**
       * Where LISTEN runs: the client itself (undefined), a client of its own on a direct URL,
       * which Koban opened and closes, or nowhere (null: behind a pooler, the node polls).
       */
      readonly listener?: postgres.Sql | null;
      /** Behind a pooler in transaction mode: Koban's statements never pipeline on a busy connection. */
      readonly gate?: StatementGate;
    }
  | { readonly kind: 'pglite'; readonly client: PGlite };

const dialect = new PgDialect();

/** Milliseconds a statement of Koban's may go unanswered when its caller set no deadline of its own. */
export const defaultStatementDeadline = 60_000;

/**
 * The one place that knows which driver is underneath. The engine runs Drizzle `sql` statements
 * through `query` and gets the driver's row objects back; the statements select every value in
 * a form all drivers read alike (see wire.ts), so nothing above this needs to know the driver.
 */
export class Database {
  /** What the node should warn about at start: settings of the database or client that Koban needs and finds missing. */
  readonly warnings: string[] = [];

  constructor(
    readonly drizzle: DrizzleDatabase,
    private readonly driver: Driver,
    /** Whether Koban opened the client, and so closes it. */
    private readonly owned: boolean,
    readonly description: string,
    /**
     * Milliseconds a statement sent outside a transaction, whose caller gave no signal of its
     * own, may go unanswered: then it is cancelled in the server and fails, so that no periodic
     * task (staging, pruning, the leader's plugins) hangs for good on a sleeping server or a
     * half-open connection. Transactions set their own (see transactionDeadline).
     */
    readonly statementDeadline: number = defaultStatementDeadline,
  ) {}

  get kind(): 'postgres' | 'pglite' {
    return this.driver.kind;
  }

  /**
   * Runs a query and returns its rows. With an application transaction, the query joins it.
   * Koban's own statements on postgres.js are prepared: the hot path runs the same few
   * statements thousands of times. A statement whose caller gave up on it (`signal` aborted) is
   * cancelled in the server, so that its connection comes back to the pool.
   */
  async query<Row = Record<string, unknown>>(
    query: SQL,
    executor?: Executor,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<Row[]> {
    if (executor) return rowsOf<Row>(await executor.execute(query));
    if (this.driver.kind === 'postgres') {
      const { client, gate, prepare = true } = this.driver;
      const compiled = dialect.sqlToQuery(query);
      const send = () => {
        const pending = client.unsafe(compiled.sql, compiled.params as never[], { prepare });
        if (signal) {
          cancelOnAbort(pending, signal);
          return pending;
        }
        return withDeadline(pending, this.statementDeadline);
      };
      return withoutHoles((await (gate ? gate.run(send) : send())) as unknown as Row[]);
    }
    return rowsOf<Row>(await this.drizzle.execute(query));
  }

  /**
   * Runs `work` in a transaction. On the client Koban opened, it survives the connection dying
   * under it (see postgres-workarounds.ts); on the application's client, it is a plain Drizzle
   * transaction.
   */
  transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
    if (this.driver.kind === 'postgres' && this.driver.gate) {
      const { gate } = this.driver;
      return gate.run(() => this.openTransaction(work));
    }
    return this.openTransaction(work);
  }

  private openTransaction<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
    if (this.driver.kind === 'postgres' && this.driver.guarded) return this.driver.guarded.run(work);
    return this.drizzle.transaction((tx) => work(tx));
  }

  /**
   * Subscribes to a NOTIFY channel; returns the unsubscribe function. Notifications sent while the
   * listening connection is down are lost: `onRelisten` runs each time it listens again, so the
   * caller can look for what it missed.
   */
  async listen(
    channel: string,
    onPayload: (payload: string) => void,
    onRelisten?: () => void,
  ): Promise<() => Promise<void>> {
    if (this.driver.kind === 'postgres') {
      const listener = this.driver.listener === undefined ? this.driver.client : this.driver.listener;
      if (listener === null) return async () => {};
      let listening = false;
      const subscription = await listener.listen(
        channel,
        (payload) => onPayload(payload),
        () => {
          if (listening) onRelisten?.();
          listening = true;
        },
      );
      return () => subscription.unlisten();
    }
    const unlisten = await this.driver.client.listen(channel, (payload) => onPayload(payload));
    return () => unlisten();
  }

  /** Whether NOTIFYs reach this node; when not (behind a pooler without `listenUrl`), it polls. */
  get listens(): boolean {
    return this.driver.kind === 'pglite' || this.driver.listener !== null;
  }

  /** Called once `schema` is migrated: lets later in-memory starts in this process begin from here. */
  async migrated(schema: string): Promise<void> {
    if (this.owned && this.driver.kind === 'pglite') await snapshotMigrated(this.driver.client, schema);
  }

  /**
   * Closes the connection if Koban opened it; a database the application gave is left open.
   * Queries still running after `timeout` seconds are cut off.
   */
  async close({ timeout = 5 }: { timeout?: number } = {}): Promise<void> {
    if (this.driver.kind === 'postgres' && this.driver.listener) await this.driver.listener.end({ timeout });
    if (!this.owned) return;
    if (this.driver.kind === 'postgres') await this.driver.client.end({ timeout });
    else await this.driver.client.close();
  }

  /** Fails with a clear error when the server does not answer within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<void> {
    if (this.driver.kind !== 'postgres') return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(connectTimeoutError(timeoutMs)), timeoutMs);
    });
    const answered = this.driver.client.unsafe('select 1');
    answered.catch(() => undefined);
    try {
      await Promise.race([answered, expired]);
    } catch (error) {
      throw explainConnectionError(error, this.description);
    } finally {
      clearTimeout(timer);
    }
  }
}

function rowsOf<Row>(result: unknown): Row[] {
  if (Array.isArray(result)) return withoutHoles(result as Row[]);
  return ((result as { rows?: Row[] }).rows ?? []) as Row[];
}

/**
 * The rows of a reply, without the holes postgres.js leaves before them on a connection that was
 * cut while an earlier reply's rows streamed in (its per-connection row count is reset only when
 * a reply completes). The holes are always at the start, so one look at index 0 tells.
 */
function withoutHoles<Row>(rows: Row[]): Row[] {
  return rows.length === 0 || 0 in rows ? rows : rows.filter(() => true);
}

/**
 * The statement's rows, or a KobanDatabaseError once it has gone unanswered for `ms`: it is then
 * cancelled in the server (or dropped if still queued), and a reply that never comes (a
 * half-open connection) no longer holds its caller.
 */
function withDeadline<T>(
  pending: { cancel(): unknown; then: PromiseLike<T>['then'] },
  ms: number,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cancelQuietly(pending);
      reject(
        new KobanDatabaseError(
          `a statement got no answer within ${ms} ms (statementDeadline) and was cancelled in the server`,
        ),
      );
    }, ms);
  });
  const answered = Promise.resolve(pending);
  answered.catch(() => undefined);
  return Promise.race([answered, expired]).finally(() => clearTimeout(timer));
}

/**
 * Cancels a statement once `signal` aborts: postgres.js sends a CancelRequest on a connection of
 * its own (what pg_cancel_backend does), or drops the statement if it is still queued.
 */
function cancelOnAbort(
  pending: { cancel(): unknown; then: PromiseLike<unknown>['then'] },
  signal: AbortSignal,
): void {
  const cancel = () => cancelQuietly(pending);
  if (signal.aborted) {
    cancel();
    return;
  }
  signal.addEventListener('abort', cancel, { once: true });
  void pending.then(
    () => signal.removeEventListener('abort', cancel),
    () => signal.removeEventListener('abort', cancel),
  );
}

/** Cancels a statement, whatever becomes of the cancel: the statement's own promise tells. */
function cancelQuietly(pending: { cancel(): unknown }): void {
  void Promise.resolve(pending.cancel()).catch(() => undefined);
}
