import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { Executor } from './database.js';

const dialect = new PgDialect();

type Client = postgres.Sql;
type OnClose = (connectionId: number) => void;
type QueryOptions = { onexecute?: (connection: { id: number }) => unknown } & Record<string, unknown>;

/**
 * Transactions on postgres.js that never write to a connection that has closed.
 *
 * postgres.js 3.4.9 has a fourth fault (see postgres-client.ts for the others): a statement sent
 * on a transaction's connection after its socket closed is flushed on the next tick to a socket
 * that is gone, which throws from a timer and kills the process. Its `begin` does that itself
 * when a connection dies mid-transaction (a restart, a failover, `pg_terminate_backend`): it
 * sends ROLLBACK, or COMMIT, on the dead connection. (Its `reserve`, which would avoid `begin`,
 * never resolves with `fetch_types` off unless a connection is open already.)
 *
 * `begin` itself rejects at once when its connection closes. So here the client's `onclose`
 * hook counts each connection's closes, and the transaction learns its connection from the
 * `begin` statement (the client's `unsafe` is wrapped for that: `begin` gives no other way).
 * Once that connection has closed, the work neither sends another statement nor settles: `begin`
 * then has nothing to send, and rejects with the driver's CONNECTION_CLOSED. The check and the
 * send happen in one turn of the event loop, in which no close is handled.
 */
export class PostgresTransactions {
  private readonly closes = new Map<number, number>();
  /** Set while `begin` sends its BEGIN: who wants to know the connection it runs on. */
  private learning: ((connection: number) => void) | undefined;

  constructor(private readonly client: Client) {
    const options = client.options as unknown as { onclose?: OnClose };
    const previous = options.onclose;
    options.onclose = (id) => {
      this.closes.set(id, (this.closes.get(id) ?? 0) + 1);
      previous?.(id);
    };
    const unsafe = client.unsafe;
    const transactions = this;
    client.unsafe = function (
      this: Client,
      text: string,
      parameters?: unknown[],
      queryOptions?: QueryOptions,
    ) {
      const learn = transactions.learning;
      const onexecute = queryOptions?.onexecute;
      if (learn && onexecute && /^begin\b/i.test(text)) {
        transactions.learning = undefined;
        queryOptions = {
          ...queryOptions,
          onexecute: (connection: { id: number }) => {
            learn(connection.id);
            return onexecute(connection);
          },
        };
      }
      return unsafe.call(this, text, parameters as never[], queryOptions as never);
    } as Client['unsafe'];
  }

  run<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
    let connection: number | undefined;
    let closesAtStart = 0;
    const lost = () => connection !== undefined && (this.closes.get(connection) ?? 0) !== closesAtStart;
    this.learning = (id) => {
      connection = id;
      closesAtStart = this.closes.get(id) ?? 0;
    };
    // begin sends its BEGIN before its first await: the wrapper above has seen it when this returns.
    const transaction = this.client.begin(async (sql) => {
      const tx: Executor = {
        execute(query: SQL) {
          if (lost()) return never<unknown>();
          const compiled = dialect.sqlToQuery(query);
          return sql.unsafe(compiled.sql, compiled.params as never[], { prepare: true });
        },
      };
      try {
        const result = await work(tx);
        return lost() ? never<T>() : result;
      } catch (error) {
        // A rethrow would make begin send ROLLBACK on the dead connection: it rejects by itself.
        if (lost()) return never<T>();
        throw error;
      }
    }) as Promise<T>;
    this.learning = undefined;
    return transaction;
  }
}

/** A promise that never settles: what a lost transaction's work gives back (see above). */
function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}
