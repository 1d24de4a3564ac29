import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { KobanConfigError } from '../../sdk/errors.js';
import type { Executor } from './executor.js';

/**
 * Every workaround Koban needs for postgres.js, in one place. They apply only to the client Koban
 * opens for a URL; a client the application passes in is used as it is, never changed.
 *
 * Checked against postgres.js 3.4.9 (`checkedVersions`); `checkPostgresDriver` refuses to open a
 * client with any other version, because faults 2 and 4 rely on the driver's internals.
 *
 * 1. With the default `fetch_types`, each new connection first runs a catalog query whose promise
 *    nobody awaits; a connection killed during it crashes the process with an unhandled rejection
 *    (porsager/postgres #1192, #1205, #1223). Koban turns it off; its statements need no array
 *    types on the client (see wire.ts).
 * 2. Writes under 1 KiB are flushed on the next tick. When a socket closes with such a write
 *    pending, the driver cancels the flush but keeps the buffer and the cancelled timer, so that
 *    connection never flushes a small write again: its next startup message stays in the buffer,
 *    and the query waiting for it hangs until `connect_timeout`. A startup message of 1 KiB or
 *    more is written at once, with whatever was stuck before it; the server drops that garbled
 *    connection and the next attempt is clean. The padding is whitespace in `client_encoding`,
 *    which the server ignores when it reads the name (it answers `UTF8`).
 * 3. The reconnect back-off grows to 20 s and is reset only by a connection that completes its
 *    startup, so after an outage a node waited long after the database was back. Koban caps it.
 * 4. A statement sent on a transaction's connection after its socket closed is flushed on the
 *    next tick to a socket that is gone, which throws from a timer and kills the process; `begin`
 *    does that itself (ROLLBACK or COMMIT) when a connection dies mid-transaction. See
 *    `GuardedTransactions`.
 */
export const checkedVersions = { from: '3.4.9', below: '3.5.0' } as const;

export interface ClientSettings {
  readonly poolSize: number;
  readonly connectTimeout: number;
  readonly reconnectDelay: number;
  readonly password: string | undefined;
  /** Named prepared statements; false behind a pooler in transaction mode. */
  readonly prepare: boolean;
}

/** Bytes at and over which postgres.js writes at once instead of on the next tick. */
const immediateWriteBytes = 1024;

/** The client Koban opens for a URL, and the transactions that go with it. */
export function openPostgresClient(
  url: string,
  settings: ClientSettings,
): { client: postgres.Sql; transactions: GuardedTransactions } {
  checkPostgresDriver();
  const closes = new Map<number, number>();
  const client = postgres(url, {
    max: settings.poolSize,
    onnotice: () => {},
    ...(settings.password === undefined ? {} : { password: settings.password }),
    fetch_types: false,
    prepare: settings.prepare,
    connection: { client_encoding: `UTF8${' '.repeat(immediateWriteBytes)}` },
    connect_timeout: settings.connectTimeout / 1000,
    backoff: reconnectBackoff(settings.reconnectDelay),
    onclose: (id: number) => closes.set(id, (closes.get(id) ?? 0) + 1),
  } as postgres.Options<Record<string, never>>);
  return { client, transactions: new GuardedTransactions(client, closes, settings.prepare) };
}

/** Seconds before reconnect attempt `attempt`: doubling from 25 ms, capped, with jitter. */
function reconnectBackoff(maxDelayMs: number): (attempt: number) => number {
  return (attempt) =>
    (Math.min(maxDelayMs, 25 * 2 ** Math.min(attempt, 20)) * (0.5 + Math.random() / 2)) / 1000;
}

let checked: string | undefined;

/** Fails loudly when the installed postgres.js is not a version these workarounds were checked on. */
export function checkPostgresDriver(version = installedVersion()): void {
  if (checked === version) return;
  if (!(compare(version, checkedVersions.from) >= 0 && compare(version, checkedVersions.below) < 0)) {
    throw new KobanConfigError(
      `postgres (postgres.js) ${version} is installed, but Koban's connection handling was checked on ` +
        `${checkedVersions.from} up to below ${checkedVersions.below} (runtime/database/postgres-workarounds.ts). ` +
        `Install a version in that range (npm install postgres@~${checkedVersions.from}), or pass your own ` +
        'Drizzle database as Koban.start({ database }), which Koban uses as it is.',
    );
  }
  checked = version;
}

function installedVersion(): string {
  const require = createRequire(import.meta.url);
  // The package does not export its package.json: find it beside the resolved entry point.
  let folder = dirname(require.resolve('postgres'));
  for (let depth = 0; depth < 4; depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'postgres' && manifest.version) return manifest.version;
    } catch {
      // not here: look one folder up
    }
    folder = dirname(folder);
  }
  return 'unknown';
}

function compare(a: string, b: string): number {
  const parts = (version: string) => version.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let index = 0; index < 3; index++) {
    const difference = (x[index] ?? 0) - (y[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

const dialect = new PgDialect();
type QueryOptions = { onexecute?: (connection: { id: number }) => unknown } & Record<string, unknown>;

/**
 * Transactions that never write to a connection that has closed (fault 4). `begin` itself
 * rejects at once when its connection closes. The client's `onclose` counts each connection's
 * closes, and the transaction learns its connection from the `begin` statement: the client's
 * `unsafe` is wrapped to see it, since `begin` gives no other way. Once that connection has
 * closed, the work neither sends another statement nor settles: `begin` then has nothing to
 * send, and rejects with the driver's CONNECTION_CLOSED. The check and the send happen in one
 * turn of the event loop, in which no close is handled.
 */
export class GuardedTransactions {
  /** Set while `begin` sends its BEGIN: who wants to know the connection it runs on. */
  private learning: ((connection: number) => void) | undefined;

  constructor(
    private readonly client: postgres.Sql,
    private readonly closes: Map<number, number>,
    private readonly prepare = true,
  ) {
    const unsafe = client.unsafe;
    const transactions = this;
    client.unsafe = function (
      this: postgres.Sql,
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
    } as postgres.Sql['unsafe'];
  }

  run<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
    let connection: number | undefined;
    let closesAtStart = 0;
    const lost = () => connection !== undefined && (this.closes.get(connection) ?? 0) !== closesAtStart;
    this.learning = (id) => {
      connection = id;
      closesAtStart = this.closes.get(id) ?? 0;
    };
    const prepare = this.prepare;
    // begin sends its BEGIN before its first await: the wrapper above has seen it when this returns.
    const transaction = this.client.begin(async (sql) => {
      const tx: Executor = {
        execute(query: SQL) {
          if (lost()) return never<unknown>();
          const compiled = dialect.sqlToQuery(query);
          return sql.unsafe(compiled.sql, compiled.params as never[], { prepare });
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
